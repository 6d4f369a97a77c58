"""Each template gets its first version and its variables as {"name", "required"}; the seeds' brand: PRODUCT_NAME.

The system templates named "Digi Era Pro" where the pages said the product's
own name: their defaults now name `product_name`, which the renderer
provides from the PRODUCT_NAME setting, so the product has one name.
"""

from django.db import migrations

from emails.templating.source import source_compile, variables_of

SEED_BRANDS = ("'Digi Era Pro CRM'", "'Digi Era Pro'")


def _variables(template):
    compiled = [source_compile(source) for source in (template.subject, template.html, template.text) if source]
    return [v.as_dict() for v in variables_of([c for c in compiled if not hasattr(c, "line")])]


def forwards(apps, schema_editor):
    Template = apps.get_model("emails", "Template")
    TemplateVersion = apps.get_model("emails", "TemplateVersion")
    for template in Template.objects.all():
        if template.is_system:
            for name in ("subject", "html", "text"):
                value = getattr(template, name)
                for brand in SEED_BRANDS:
                    value = value.replace(f"|default:{brand}", "|default:product_name")
                setattr(template, name, value)
        template.variables = _variables(template)
        template.version = 1
        template.save(update_fields=["subject", "html", "text", "variables", "version"])
        TemplateVersion.objects.create(
            template=template, number=1, name=template.name, subject=template.subject, html=template.html,
            text=template.text, category=template.category, variables=template.variables, note="Created",
        )  # fmt: skip


def backwards(apps, schema_editor):
    apps.get_model("emails", "TemplateVersion").objects.all().delete()
    Template = apps.get_model("emails", "Template")
    for template in Template.objects.all():
        template.variables = [v["name"] if isinstance(v, dict) else v for v in template.variables]
        template.save(update_fields=["variables"])


class Migration(migrations.Migration):
    dependencies = [("emails", "0009_templates_versions_scheduling")]

    operations = [migrations.RunPython(forwards, backwards)]
