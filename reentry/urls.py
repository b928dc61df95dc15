from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from services.access import signed_in_required
from services.views.account import PasswordResetRequestView

urlpatterns = [
    # Before Django's own: changing a password needs the second factor too (a password alone
    # must not be enough to take an account over), and the reset page never tells whether an
    # address has an account, nor that it was asked too often.
    path(
        "accounts/password_change/",
        signed_in_required(auth_views.PasswordChangeView.as_view()),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        signed_in_required(auth_views.PasswordChangeDoneView.as_view()),
        name="password_change_done",
    ),
    path(
        "accounts/password_reset/",
        PasswordResetRequestView.as_view(),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("services.api.urls")),
    path("", include("services.urls")),
]
