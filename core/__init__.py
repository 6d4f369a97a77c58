"""What the emails and files apps share and neither owns.

Domain error kinds (`core.errors`), checks on free-form text and JSON
(`core.text`), running tasks after commit on Celery or in this process
(`core.tasks`, `core.scheduler`) and the REST API's plumbing: one envelope,
one pagination class, one exception handler (`core.rest`). It imports
neither app: both depend on it, never the other way round.
"""
