from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from services.access import signed_in_required
from services.forms.accounts import PlainAuthenticationForm, PlainPasswordChangeForm
from services.views.account import PasswordResetConfirmInTheirLanguage, PasswordResetRequestView, SignOutView

urlpatterns = [
    # Before Django's own: changing a password needs the second factor too (a password alone
    # must not be enough to take an account over), the reset page never tells whether an
    # address has an account, nor that it was asked too often, and every password form speaks
    # plainly (services/forms/accounts.py).
    path(
        "accounts/password_change/",
        signed_in_required(
            auth_views.PasswordChangeView.as_view(
                form_class=PlainPasswordChangeForm, extra_context={"title": _("Change your password")}
            )
        ),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        signed_in_required(
            auth_views.PasswordChangeDoneView.as_view(extra_context={"title": _("Your password is changed")})
        ),
        name="password_change_done",
    ),
    path(
        "accounts/password_reset/",
        PasswordResetRequestView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        PasswordResetConfirmInTheirLanguage.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=PlainAuthenticationForm), name="login"),
    path("accounts/logout/", SignOutView.as_view(), name="logout"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("services.api.urls")),
    path("", include("services.urls")),
]
