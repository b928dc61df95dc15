"""/api/v1/ (the records), /api/schema/ (OpenAPI 3) and /api/docs/ (its reference, from our
own static files)."""

from __future__ import annotations

from django.urls import include, path, re_path
from django.views.decorators.cache import never_cache
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from services.api import views

v1 = [
    path("", never_cache(views.root), name="root"),
    path("people/", never_cache(views.PersonList.as_view()), name="people"),
    path("people/<int:pk>/", never_cache(views.PersonDetail.as_view()), name="person"),
    path("people/<int:pk>/needs/", never_cache(views.PersonNeeds.as_view()), name="person-needs"),
    path("people/<int:pk>/referrals/", never_cache(views.PersonReferrals.as_view()), name="person-referrals"),
    path("people/<int:pk>/follow-ups/", never_cache(views.PersonFollowUps.as_view()), name="person-follow-ups"),
    path(
        "people/<int:pk>/follow-ups/already-done/",
        never_cache(views.person_follow_up_done_already),
        name="person-follow-ups-already-done",
    ),
    path("people/<int:pk>/notes/", never_cache(views.PersonNotes.as_view()), name="person-notes"),
    path("people/<int:pk>/assessments/", never_cache(views.PersonAssessments.as_view()), name="person-assessments"),
    path("people/<int:pk>/consents/", never_cache(views.PersonConsents.as_view()), name="person-consents"),
    path("needs/<int:pk>/", never_cache(views.NeedDetail.as_view()), name="need"),
    path("needs/<int:pk>/status/", never_cache(views.need_status), name="need-status"),
    path("needs/<int:pk>/referrals/", never_cache(views.need_refer), name="need-refer"),
    path("referrals/<int:pk>/", never_cache(views.ReferralDetail.as_view()), name="referral"),
    path("referrals/<int:pk>/transition/", never_cache(views.referral_transition), name="referral-transition"),
    path("follow-ups/<int:pk>/", never_cache(views.FollowUpDetail.as_view()), name="follow-up"),
    path("follow-ups/<int:pk>/done/", never_cache(views.follow_up_done), name="follow-up-done"),
    path("follow-ups/<int:pk>/reopen/", never_cache(views.follow_up_reopen), name="follow-up-reopen"),
    path("notes/<int:pk>/", never_cache(views.NoteDetail.as_view()), name="note"),
    path("assessments/<int:pk>/", never_cache(views.AssessmentDetail.as_view()), name="assessment"),
    path("consents/<int:pk>/", never_cache(views.ConsentDetail.as_view()), name="consent"),
    path("consents/<int:pk>/revoke/", never_cache(views.consent_revoke), name="consent-revoke"),
    path("resources/", never_cache(views.ResourceList.as_view()), name="resources"),
    path("resources/<int:pk>/", never_cache(views.ResourceDetail.as_view()), name="resource"),
    path("providers/", never_cache(views.ProviderList.as_view()), name="providers"),
    path("providers/<int:pk>/", never_cache(views.ProviderDetail.as_view()), name="provider"),
    path("outcomes/", never_cache(views.outcomes), name="outcomes"),
]

urlpatterns = [
    path("v1/", include((v1, "api"))),
    re_path(r"^v1/(?P<rest>.*)$", never_cache(views.no_such_address), name="api-no-such-address"),
    path("schema/", never_cache(SpectacularAPIView.as_view()), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
