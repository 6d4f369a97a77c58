"""The templating wing: stored templates, their versions and variables, and rendering what goes out.

Its interface: `email_render` (what a send's subject and bodies become),
`message_bodies` (a message's HTML and text, stored or rendered again from its bulk),
`html_sanitise` (stored HTML shown to people) and `html_remote_images`, and the template services
(`template_save`, `template_restore`, `template_delete`, previews, the
variables a send must give). It knows no other wing.
"""

from emails.templating.bodies import bodies_stored, message_bodies
from emails.templating.rendering import (
    Compiled,
    Rendered,
    email_render,
    html_remote_images,
    html_sanitise,
    html_to_text,
)
from emails.templating.services import (
    TemplateDraft,
    source_preview,
    source_variables,
    template_check,
    template_delete,
    template_get,
    template_missing,
    template_preview,
    template_restore,
    template_save,
    template_versions,
)
from emails.templating.source import Variable

__all__ = [
    "Compiled",
    "Rendered",
    "TemplateDraft",
    "Variable",
    "bodies_stored",
    "email_render",
    "html_remote_images",
    "html_sanitise",
    "html_to_text",
    "message_bodies",
    "source_preview",
    "source_variables",
    "template_check",
    "template_delete",
    "template_get",
    "template_missing",
    "template_preview",
    "template_restore",
    "template_save",
    "template_versions",
]
