import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tipline.settings")
application = get_wsgi_application()

# Gunicorn started directly (not through `tipline serve`) skips the system checks: a worker
# with a missing or damaged key refuses to boot instead of answering every report with a 500.
from tipline.ops.keycheck import refuse_to_start_without_keys  # noqa: E402

refuse_to_start_without_keys()
