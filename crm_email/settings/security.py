"""Security: HTTPS, cookies, framing, the Content-Security-Policy, and who may read the API's docs.

The defaults suit a laptop on http://127.0.0.1 and stay safe there: nothing
that only works over HTTPS is on by default. docs/deploy.md gives the
production values, with which `manage.py check --deploy` reports nothing
(tests/test_deploy_check.py runs it with exactly those).
"""

from __future__ import annotations

from csp.constants import NONE, SELF

from crm_email.env import env_bool, env_int

# --- HTTPS -------------------------------------------------------------------------------------------------------
# Behind a load balancer that ends TLS, Django sees plain HTTP: trust the
# proxy's X-Forwarded-Proto only when told there is one (a client could send
# the header itself otherwise), so request.is_secure() and the redirect below
# know the truth.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_BEHIND_TLS_PROXY", False) else None
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
# A load balancer's health checks come over plain HTTP to the node itself.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# HSTS: 0 (off) until the site is known to be HTTPS-only; browsers remember it
# for this many seconds, so start small in production (docs/deploy.md).
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# --- Cookies -----------------------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# A failed check gets the product's page (its header and stylesheet, allowed by the CSP), not Django's.
CSRF_FAILURE_VIEW = "crm_email.csrf.csrf_failure"
CSRF_COOKIE_HTTPONLY = False  # the composer's fetch() reads it for API calls
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- Framing -----------------------------------------------------------------------------------------------------
# No page of ours is framed, except a message's body with remote images,
# which the message page frames itself (that view says SAMEORIGIN). The other
# previews are srcdoc iframes, which X-Frame-Options does not govern.
X_FRAME_OPTIONS = "DENY"

# --- Content-Security-Policy (django-csp) -----------------------------------------------------------------------
# Scripts and styles come only from our static files: no inline script, no
# eval (htmx's evaluating features are off, base.html), no inline <style>.
# Images are ours or data: URLs. That also covers the message previews: a
# srcdoc iframe inherits its page's policy, so opening a message fetches no
# remote image (no tracking pixel) until asked (emails/pages/message.py).
# Per-view changes: the pages with a preview allow style attributes (an
# email's layout is in them; core/csp.py), the body with remote images has a
# policy of its own, and pages that upload add the storage's origin to
# connect-src (crm_email/csp.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- API docs ----------------------------------------------------------------------------------------------------
# /api/schema/ and /api/docs/ for anyone (true), or only after sign-in, by
# session or token (false): the schema names every route and field.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", True)
