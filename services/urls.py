from django.urls import path

from services.views import account, cases, director, directory, health, home, notifications, plan

urlpatterns = [
    path("", home.home, name="home"),
    path("no-role/", home.no_role, name="no_role"),
    path("healthz/", health.healthz, name="healthz"),
    path("accounts/invite/<uidb64>/<token>/", home.InvitationAcceptView.as_view(), name="invitation_accept"),
    path("accounts/invite/done/", home.InvitationDoneView.as_view(), name="invitation_done"),
    # Two-factor sign-in and the account page
    path("account/", account.account, name="account"),
    path("accounts/two-factor/", account.two_factor_verify, name="two_factor_verify"),
    path("accounts/two-factor/setup/", account.two_factor_setup, name="two_factor_setup"),
    path("accounts/two-factor/backup-codes/", account.two_factor_backup_codes, name="two_factor_backup_codes"),
    # Caseworkers
    path("dashboard/", cases.dashboard, name="dashboard"),
    path("people/", cases.exoneree_list, name="exoneree_list"),
    path("people/new/", cases.exoneree_create, name="exoneree_create"),
    path("people/<int:pk>/", cases.exoneree_detail, name="exoneree_detail"),
    path("people/<int:pk>/edit/", cases.exoneree_edit, name="exoneree_edit"),
    path("people/<int:pk>/ssn/", cases.exoneree_ssn_reveal, name="exoneree_ssn_reveal"),
    path("people/<int:pk>/invite/", cases.exoneree_invite, name="exoneree_invite"),
    path("people/<int:pk>/access/", director.exoneree_access_log, name="exoneree_access_log"),
    path("people/<int:pk>/caseworkers/", director.caseload_edit, name="caseload_edit"),
    path("people/<int:pk>/needs/new/", cases.need_create, name="need_create"),
    path("people/<int:pk>/follow-ups/new/", cases.follow_up_create, name="follow_up_create"),
    path("people/<int:pk>/notes/new/", cases.note_create, name="note_create"),
    path("people/<int:pk>/assessments/new/", cases.assessment_create, name="assessment_create"),
    path("needs/<int:pk>/edit/", cases.need_edit, name="need_edit"),
    path("needs/<int:pk>/status/", cases.need_status, name="need_status"),
    path("needs/<int:pk>/refer/", cases.referral_create, name="referral_create"),
    path("referrals/<int:pk>/", cases.referral_detail, name="referral_detail"),
    path("referrals/<int:pk>/edit/", cases.referral_edit, name="referral_edit"),
    path("referrals/<int:pk>/status/", cases.referral_transition, name="referral_transition"),
    path("follow-ups/<int:pk>/edit/", cases.follow_up_edit, name="follow_up_edit"),
    path("follow-ups/<int:pk>/done/", cases.follow_up_done, name="follow_up_done"),
    path("follow-ups/<int:pk>/reopen/", cases.follow_up_reopen, name="follow_up_reopen"),
    path("notes/<int:pk>/edit/", cases.note_edit, name="note_edit"),
    path("assessments/<int:pk>/", cases.assessment_detail, name="assessment_detail"),
    path("assessments/<int:pk>/edit/", cases.assessment_edit, name="assessment_edit"),
    # Resource directory
    path("resources/", directory.resource_list, name="resource_list"),
    path("resources/new/", directory.resource_create, name="resource_create"),
    path("resources/<int:pk>/", directory.resource_detail, name="resource_detail"),
    path("resources/<int:pk>/edit/", directory.resource_edit, name="resource_edit"),
    # Directors
    path("director/", director.director_dashboard, name="director_dashboard"),
    path("director/staff/", director.staff_list, name="staff_list"),
    path("director/audit/", director.audit_log, name="audit_log"),
    path("director/staff/new/", director.staff_create, name="staff_create"),
    path("director/staff/<int:pk>/", director.staff_edit, name="staff_edit"),
    path("director/staff/<int:pk>/unlock/", director.staff_unlock, name="staff_unlock"),
    # Notifications (staff)
    path("notifications/", notifications.notification_list, name="notification_list"),
    path("notifications/<int:pk>/read/", notifications.notification_read, name="notification_read"),
    path("notifications/read-all/", notifications.notification_read_all, name="notification_read_all"),
    # Exonerees
    path("my-plan/", plan.my_plan, name="my_plan"),
]
