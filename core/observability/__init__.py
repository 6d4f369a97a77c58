"""Following one request through the logs: its id, JSON log lines, and the id carried into the tasks it causes.

`context` holds the request id of the work in hand (a contextvar); the
middleware sets it per request, `propagation` carries it into Celery tasks
(task headers) and core.tasks into the in-process worker's thread; `logs`
puts it on every log line, as JSON with LOG_FORMAT=json.
"""
