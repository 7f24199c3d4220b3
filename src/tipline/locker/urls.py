"""Public URLconf of the evidence locker (trust domain 1).

Every page inside an opened locker answers a POST that carries the session token in a hidden
field, so no URL here ever holds a secret (nothing in browser history or server logs); a GET on
any of them shows the open page. The one address with a value in it, `continue/?t=`, holds a
hand-off ticket that works once, for a minute (see sessions.py).
"""

from django.urls import URLPattern, path

from tipline.locker import exports, pages, timeline_views, views

app_name = "locker"

urlpatterns: list[URLPattern] = [
    path("", views.home, name="home"),
    path("create/", views.create, name="create"),
    path("open/", views.open_locker, name="open"),
    path("continue/", views.continue_page, name="continue"),
    path("mine/", views.page, name="page"),
    path("lock/", views.lock, name="lock"),
    path("exit/", views.quick_exit, name="exit"),
    path("settings/", views.settings_page, name="settings"),
    path("delete/", views.delete, name="delete"),
    path("import/", pages.import_file, name="import"),
    path("incidents/", pages.incidents, name="incidents"),
    path("incidents/save/", pages.incident_save, name="incident_save"),
    path("timeline/", timeline_views.timeline, name="timeline"),
    path("timeline/responsible/", timeline_views.responsible, name="responsible"),
    path("export/pdf/", exports.export_pdf, name="export_pdf"),
    path("export/zip/", exports.export_zip, name="export_zip"),
    path("hand-over/", pages.hand_over, name="handover"),
]
