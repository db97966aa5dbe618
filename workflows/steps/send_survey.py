"""`send_survey`: create a CSAT Survey and send its link `<SITE_URL>/survey/<token>/` to the customer.

`via`: `email` (to the contact's address), `message` (a public message on the conversation with an answer
button) or `sms`. No SMS backend exists yet (it comes with the SMS integration), so `via: sms` fails the step
clearly and creates no survey, rather than silently using another channel the customer may never see.
"""
from django.conf import settings
from django.core.exceptions import ValidationError

from conversations import services
from conversations.choices import SenderType, SurveyChannel
from workflows import notifications
from workflows.steps.registry import StepContext, StepOutcome, StepType, step_types

DEFAULT_QUESTION = "How would you rate the help you received?"
SMS_UNAVAILABLE = ("Surveys by SMS need an SMS backend, which is not installed yet; "
                   'use "email" or "message" for now.')
NO_CONVERSATION = "This step needs a conversation; the event has none."


def survey_link(token: str) -> str:
    """The public page where the customer answers."""
    return f"{settings.SITE_URL}/survey/{token}/"


@step_types.register
class SendSurveyStep(StepType):
    type = "send_survey"
    label = "Send survey"
    schema = {
        "type": "object", "additionalProperties": False,
        "properties": {
            "via": {"enum": list(SurveyChannel.values)},
            "question": {"type": "string", "minLength": 1, "maxLength": 500},
        },
    }
    templated = ("question",)

    def _plan(self, config: dict, ctx: StepContext) -> dict:
        """The channel, rendered question and recipient; refuses what cannot be delivered before anything is made."""
        via = config.get("via", SurveyChannel.EMAIL)
        question = " ".join((self.render(config, ctx).get("question") or DEFAULT_QUESTION).split())[:500]
        if not question:
            raise ValidationError({"question": "The question rendered empty."})
        if via == SurveyChannel.SMS:
            raise ValidationError({"via": SMS_UNAVAILABLE})
        plan = {"via": via, "question": question}
        if via == SurveyChannel.EMAIL:
            email = (ctx.data.get("contact") or {}).get("email")
            if not email:
                raise ValidationError({"via": "The contact has no email address to send the survey to."})
            plan["to"] = [email]
        return plan

    def describe(self, config: dict, ctx: StepContext) -> dict:
        return {"would": "Send survey", **self._plan(config, ctx), "link": survey_link("<token>")}

    def execute(self, config: dict, ctx: StepContext) -> StepOutcome:
        if ctx.conversation is None:
            return StepOutcome.failed(NO_CONVERSATION)
        plan = self._plan(config, ctx)
        survey = services.survey_create(conversation=ctx.conversation, question=plan["question"], via=plan["via"],
                                        depth=ctx.depth)
        link = survey_link(survey.token)
        output = {"survey_id": survey.pk, "via": plan["via"], "link": link, "delivered_via": plan["via"]}
        if plan["via"] == SurveyChannel.MESSAGE:
            message = services.message_create(
                conversation=ctx.conversation, body=f"{plan['question']}\n{link}", sender_type=SenderType.SYSTEM,
                buttons=[{"label": "Answer the survey", "url": link}], depth=ctx.depth,
            )
            output["message_id"] = message.pk
        else:
            notifications.send(to=plan["to"], subject=plan["question"],
                               body=f"{plan['question']}\n\nAnswer with one click (1 to 5): {link}\n")
            output["to"] = plan["to"]
        return StepOutcome(output=output)
