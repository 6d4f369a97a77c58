"""Attachment, the link between a message and its files, is owned by emails now (files knows nothing of email).

The model takes over files' table as it is (state only), then the table is
renamed to emails_attachment: every row is kept, on SQLite and PostgreSQL.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("emails", "0006_partial_send_indexes"),
        ("files", "0002_attachment_moves_to_emails"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Attachment",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("filename", models.CharField(max_length=255)),
                        ("content_type", models.CharField(max_length=100)),
                        ("size", models.BigIntegerField()),
                        ("position", models.PositiveSmallIntegerField()),
                        (
                            "file",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="files.file"
                            ),
                        ),
                        (
                            "message",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="attachments",
                                to="emails.message",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["message", "position"],
                        "db_table": "files_attachment",
                        "constraints": [
                            models.UniqueConstraint(fields=("message", "position"), name="attachment_unique_position")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="attachment", table=None),
    ]
