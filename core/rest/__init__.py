"""The REST API's plumbing, shared by both apps: the seeds' envelope, pagination, errors, routers, parsers."""
