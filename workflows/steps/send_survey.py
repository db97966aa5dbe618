"""`send_survey`: create a CSAT Survey and send its link `<SITE_URL>/survey/<token>/` to the customer.

`via`: `email` (to the contact's address), `message` (a public message on the conversation with an answer
button) or `sms` (to the contact's phone through an SMS provider, `workflows.integrations.sms_providers`: the step's
`integration`, `sender` and `provider`, else HELPDESK_SMS_INTEGRATION / _SENDER / _PROVIDER). The SMS is sent outside
any database transaction (no lock held during the call): the survey's token is chosen and recorded on the step
first, so every attempt (a retry, or a resume after a crash) texts the same link under the same Idempotency-Key,
and the Survey row is created once the provider accepted the message — an SMS that fails for good leaves none.
"""

import functools
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from conversations import services
from conversations.choices import SenderType, SurveyChannel
from conversations.conf import helpdesk_setting
from conversations.models import new_survey_token
from workflows.integrations import delivery as health
from workflows.integrations import services as integrations
from workflows.integrations import sms_providers
from workflows.models import EndpointKind
from workflows.outbound.client import idempotency_key
from workflows.steps import notifications
from workflows.steps.languages import translations_schema
from workflows.steps.outbound import attempt_at
from workflows.steps.registry import DefinitionInfo, StepContext, StepOutcome, StepType, step_types

DEFAULT_QUESTION = "How would you rate the help you received?"
NO_CONVERSATION = "This step needs a conversation; the event has none."


def survey_link(token: str) -> str:
    """The public page where the customer answers."""
    return str(helpdesk_setting("SITE_URL")) + reverse("survey-page", args=[token])


@step_types.register
class SendSurveyStep(StepType):
    type = "send_survey"
    label = _("Send survey")
    uses_secrets = True  # an SMS provider's reply is recorded: mask any secret it echoes
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "via": {"enum": list(SurveyChannel.values)},
            "question": {"type": "string", "minLength": 1, "maxLength": 500},
            "translations": translations_schema("question", max_length=500),
            "integration": {"type": ["string", "integer"], "minLength": 1},
            "sender": {"type": "string", "minLength": 1},
            "provider": {"enum": list(sms_providers.PROVIDERS)},
        },
    }
    templated = ("question", "translations")
    uses_secrets = True  # an SMS provider's reply may echo credentials: the runner masks them in the run log

    def validate(self, config: dict[str, Any], info: DefinitionInfo) -> list[tuple[str, str]]:
        """SMS options only make sense with `via: sms`, which needs an integration and an E.164 sender."""
        sms_keys = sorted({"integration", "sender", "provider"} & set(config))
        if config.get("via") != SurveyChannel.SMS:
            return [(key, 'Only used with "via": "sms".') for key in sms_keys]
        errors = []
        if not (config.get("integration") or helpdesk_setting("SMS_INTEGRATION")):
            errors.append(("integration", gettext("Name the SMS integration (or set HELPDESK_SMS_INTEGRATION).")))
        sender = config.get("sender") or helpdesk_setting("SMS_SENDER")
        if not sender:
            errors.append(("sender", gettext("Give the sender number (or set HELPDESK_SMS_SENDER).")))
        else:
            try:
                sms_providers.phone_number(sender, "sender")
            except ValidationError as exc:
                errors += [("sender", message) for message in exc.message_dict["sender"]]
        return errors

    def _plan(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        """The channel, rendered question and recipient; refuses what cannot be delivered before anything is made."""
        via = config.get("via", SurveyChannel.EMAIL)
        question = " ".join((self.render(config, ctx).get("question") or DEFAULT_QUESTION).split())[:500]
        if not question:
            raise ValidationError({"question": "The question rendered empty."})
        plan = {"via": via, "question": question}
        contact = ctx.data.get("contact") or {}
        if via == SurveyChannel.EMAIL:
            if not contact.get("email"):
                raise ValidationError({"via": "The contact has no email address to send the survey to."})
            plan["to"] = [contact["email"]]
        elif via == SurveyChannel.SMS:
            plan.update(self._sms_plan(config, contact))
        return plan

    def _sms_plan(self, config: dict[str, Any], contact: dict[str, Any]) -> dict[str, Any]:
        if not contact.get("phone"):
            raise ValidationError({"via": "The contact has no phone number to text the survey to."})
        reference = config.get("integration") or helpdesk_setting("SMS_INTEGRATION")
        if not reference:
            raise ValidationError(
                {"integration": "No SMS integration: name one in the step or set HELPDESK_SMS_INTEGRATION."}
            )
        integration = integrations.resolve_integration(reference)
        provider = config.get("provider") or helpdesk_setting("SMS_PROVIDER")
        sms_providers.get_provider(provider).check_integration(integration)
        sender = sms_providers.phone_number(config.get("sender") or helpdesk_setting("SMS_SENDER"), "sender")
        return {"to": contact["phone"], "sender": sender, "provider": provider, "integration": integration}

    def describe(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        plan = self._plan(config, ctx)
        if "integration" in plan:
            plan["integration"] = plan["integration"].name
        return {"would": str(self.label), **plan, "link": survey_link("<token>")}

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        if ctx.conversation is None:
            return StepOutcome.failed(NO_CONVERSATION)
        plan = self._plan(config, ctx)
        if plan["via"] == SurveyChannel.SMS:
            return self._send_by_sms(plan, ctx)
        survey = services.survey_create(
            conversation=ctx.conversation, question=plan["question"], via=plan["via"], depth=ctx.depth
        )
        link = survey_link(survey.token)
        output = {"survey_id": survey.pk, "via": plan["via"], "link": link, "delivered_via": plan["via"]}
        if plan["via"] == SurveyChannel.MESSAGE:
            message = services.message_create(
                conversation=ctx.conversation,
                body=f"{plan['question']}\n{link}",
                sender_type=SenderType.SYSTEM,
                buttons=[{"label": "Answer the survey", "url": link}],
                depth=ctx.depth,
            )
            output["message_id"] = message.pk
        else:
            notifications.send(
                to=plan["to"],
                subject=plan["question"],
                body=f"{plan['question']}\n\nAnswer with one click (1 to 5): {link}\n",
            )
            output["to"] = plan["to"]
        return StepOutcome(output=output)

    def runs_in_transaction(self, config: dict[str, Any]) -> bool:
        """Email and message surveys are internal (one transaction with the run); an SMS calls a provider."""
        return config.get("via") != SurveyChannel.SMS

    def _send_by_sms(self, plan: dict[str, Any], ctx: StepContext) -> StepOutcome:
        """Text the link, then keep the survey; every attempt of this step uses the token the first one chose."""
        token = self._token_for_this_step(ctx)
        link = survey_link(token)
        message = sms_providers.sms_message(
            sender=plan["sender"], recipient=plan["to"], text=f"{plan['question']} {link}"
        )
        key = idempotency_key(
            ctx.run.pk if ctx.run is not None else "dry-run", ctx.step_run.position if ctx.step_run is not None else 0
        )
        integration = plan["integration"]
        result, failed = attempt_at(
            health.destination(EndpointKind.SMS, integration.base_url, integration),
            ctx,
            functools.partial(
                sms_providers.send_sms, integration=integration, provider=plan["provider"], message=message, key=key
            ),
        )
        if failed is not None:
            failed.output = {**failed.output, "survey_token": token}
            return failed
        survey = services.survey_create(
            conversation=ctx.require_conversation(),
            question=plan["question"],
            via=SurveyChannel.SMS,
            depth=ctx.depth,
            token=token,
        )
        return StepOutcome(
            output={
                "survey_id": survey.pk,
                "survey_token": token,
                "via": SurveyChannel.SMS,
                "link": link,
                "delivered_via": SurveyChannel.SMS,
                "to": plan["to"],
                "sms": result,
            }
        )

    def _token_for_this_step(self, ctx: StepContext) -> str:
        """The survey token an earlier attempt of this step chose, or a new one recorded on the step before the SMS
        goes out (so a worker dying mid-call resumes with the same link)."""
        step_run = ctx.step_run
        token = (step_run.output or {}).get("survey_token") if step_run is not None else None
        if token:
            return str(token)
        token = new_survey_token()
        if step_run is not None and step_run.pk:
            step_run.output = {**(step_run.output or {}), "survey_token": token}
            step_run.save(update_fields=["output"])
        return token
