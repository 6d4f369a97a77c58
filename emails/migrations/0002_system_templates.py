"""The seeds' three system templates (welcome, password reset, notification), shipped as data."""

from django.db import migrations

WRAP = '<div style="font-family: Arial, sans-serif; max-width: 600px; margin: 0 auto;">{}</div>'

TEMPLATES = [
    {
        "slug": "welcome",
        "name": "Welcome",
        "category": "auth",
        "subject": "Welcome to {{ productName|default:'Digi Era Pro CRM' }}{% if isClient %} Client Portal{% endif %}",
        "html": WRAP.format(
            "<h2>Welcome to {{ productName|default:'Digi Era Pro CRM' }}</h2>"
            "<p>Hello {{ name }},</p>"
            "<p>Welcome to the {{ productName|default:'Digi Era Pro CRM' }} "
            "{% if isClient %}Client Portal{% else %}system{% endif %}! "
            "Your account has been created successfully.</p>"
            "<p>You can now access all the features available to you.</p>"
            "<p>If you have any questions, please don't hesitate to contact our support team.</p>"
            "<p>Best regards,<br>The {{ teamName|default:'Digi Era Pro' }} Team</p>"
        ),
        "text": (
            "Hello {{ name }},\n\nWelcome to {{ productName|default:'Digi Era Pro CRM' }}! "
            "Your account has been created successfully.\n\n"
            "Best regards,\nThe {{ teamName|default:'Digi Era Pro' }} Team"
        ),
        "variables": ["name", "isClient", "productName", "teamName"],
    },
    {
        "slug": "password-reset",
        "name": "Password reset",
        "category": "auth",
        "subject": "Password Reset - {{ productName|default:'Digi Era Pro CRM' }}",
        "html": WRAP.format(
            "<h2>Password Reset Request</h2>"
            "<p>Hello {{ name }},</p>"
            "<p>You requested a password reset for your {{ productName|default:'Digi Era Pro CRM' }} account.</p>"
            '<p><a href="{{ resetUrl }}" style="background: #2563eb; color: white; padding: 10px 20px; '
            'text-decoration: none; border-radius: 5px;">Reset Password</a></p>'
            "<p>This link will expire in {{ expiresIn|default:'24 hours' }}.</p>"
            "<p>If you didn't request this, please ignore this email.</p>"
        ),
        "text": (
            "Hello {{ name }},\n\nYou requested a password reset. Open this link: {{ resetUrl }}\n\n"
            "This link expires in {{ expiresIn|default:'24 hours' }}."
        ),
        "variables": ["name", "resetUrl", "expiresIn", "productName"],
    },
    {
        "slug": "notification",
        "name": "Notification",
        "category": "notification",
        "subject": "{{ title }}",
        "html": WRAP.format(
            "<h2>{{ title }}</h2>"
            "<p>{{ message|linebreaksbr }}</p>"
            '{% if actionUrl %}<p><a href="{{ actionUrl }}">{{ actionText|default:"Open" }}</a></p>{% endif %}'
        ),
        "text": "{{ title }}\n\n{{ message }}{% if actionUrl %}\n\n{{ actionText|default:'Open' }}: {{ actionUrl }}{% endif %}",
        "variables": ["title", "message", "actionUrl", "actionText"],
    },
]


def create_templates(apps, schema_editor):
    Template = apps.get_model("emails", "Template")
    for data in TEMPLATES:
        Template.objects.update_or_create(slug=data["slug"], defaults={**data, "is_system": True})


def remove_templates(apps, schema_editor):
    Template = apps.get_model("emails", "Template")
    Template.objects.filter(slug__in=[t["slug"] for t in TEMPLATES], is_system=True).delete()


class Migration(migrations.Migration):
    dependencies = [("emails", "0001_initial")]

    operations = [migrations.RunPython(create_templates, remove_templates)]
