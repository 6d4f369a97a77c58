"""Settings for the CRM email & file service, one module per concern.

Every knob is an environment variable with a safe local default; all of them
are listed in `.env.example`, and each is read strictly (crm_email/env.py):
a mistyped boolean or number stops the process and names the variable. With
nothing set, the app runs on SQLite with in-process tasks against real SES;
bin/dev adds SES_EMULATED=true for the embedded default.

A module that needs another's value imports it by name; the order below is
the order they may build on each other.
"""

from crm_email.settings.api import *  # noqa: F403
from crm_email.settings.base import *  # noqa: F403
from crm_email.settings.email import *  # noqa: F403
from crm_email.settings.files import *  # noqa: F403
from crm_email.settings.ops import *  # noqa: F403
from crm_email.settings.privacy import *  # noqa: F403
from crm_email.settings.security import *  # noqa: F403
from crm_email.settings.tasks import *  # noqa: F403
