"""Attachment moves to the emails app: files forgets the model, and the table stays for emails to take.

No database operation here: emails.0007 takes the same table over (and
renames it), so every row is kept.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("files", "0001_initial"),
        # emails.0005 reads files.Attachment to fill in attachment counts: it runs first.
        ("emails", "0006_partial_send_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Attachment")],
            database_operations=[],
        ),
    ]
