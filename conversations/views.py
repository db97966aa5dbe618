"""Public HTML pages of the conversations domain: the CSAT survey page a contact reaches from the link it was sent.

The page posts back to itself (a plain form with Django's CSRF token, no JavaScript) and records the answer through
`services.survey_answer`, the same function behind `POST /api/surveys/{token}/answer/`.
"""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from conversations import services
from conversations.api.serializers import MAX_SURVEY_COMMENT
from conversations.models import Survey

SCORES = [
    (1, gettext_lazy("Very unhappy")),
    (2, gettext_lazy("Unhappy")),
    (3, gettext_lazy("Neutral")),
    (4, gettext_lazy("Happy")),
    (5, gettext_lazy("Very happy")),
]


def _score_from(form_value: str | None) -> int | None:
    return int(form_value) if form_value in {"1", "2", "3", "4", "5"} else None


def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    """Show the 1-5 question (GET) or record the answer (POST); an answered survey just thanks the contact. The page
    speaks the contact's language when it has one, else the browser's."""
    survey = get_object_or_404(Survey.objects.select_related("conversation", "contact"), token=token)
    if survey.contact.language:
        translation.activate(survey.contact.language)
    errors: list[str] = []
    if request.method == "POST" and survey.answered_at is None:
        score = _score_from(request.POST.get("score"))
        comment = request.POST.get("comment", "")[:MAX_SURVEY_COMMENT]
        if score is None:
            errors.append(_("Please choose a score from 1 to 5."))
        else:
            try:
                survey = services.survey_answer(survey=survey, score=score, comment=comment)
            except ValidationError as exc:
                errors.extend(exc.messages)
    status = 400 if errors else 200
    return render(
        request, "conversations/survey.html", {"survey": survey, "scores": SCORES, "errors": errors}, status=status
    )
