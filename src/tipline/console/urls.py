"""The staff console (trust domain 2), mounted at /console/. Nothing public imports it."""

from django.urls import path

from tipline.console import views

app_name = "console"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-in/code/", views.sign_in_code, name="code"),
    path("enrol/", views.enrol, name="enrol"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("sign-out/everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
]
