"""The gallery's words for `makemessages`: each template's name and description and the categories, as the JSON
files in this folder spell them (`gettext_noop`: the gallery page translates them when it shows them; the files and
the API keep the English). A template added or reworded here needs its line changed too, or it shows in English."""

from django.utils.translation import gettext_noop

CATEGORY_NAMES = (gettext_noop("Customer Service"), gettext_noop("Sales"), gettext_noop("Operations"))

TEMPLATE_WORDS = (
    # after-hours-auto-reply.json
    gettext_noop("After-hours auto reply"),
    gettext_noop(
        "Customers who write outside business hours get an answer saying when the team is back. Pick your "
        "business-hours calendar in the condition (empty: the first calendar, or Monday to Friday "
        "09:00-17:00 in the site's time zone)."
    ),
    # ask-order-number-nudge-close.json
    gettext_noop("Ask for the order number, nudge, close"),
    gettext_noop(
        "Asks a new conversation for its order number and waits a day for the customer's answer; without "
        "one it nudges once, waits another day, then closes the conversation."
    ),
    # bad-rating-team-lead.json
    gettext_noop("Bad rating → team lead"),
    gettext_noop(
        "When a customer rates the help 1 or 2 out of 5, tag the conversation and escalate it to the team "
        "leads with an internal note quoting the score and comment (they get an email)."
    ),
    # billing-triage.json
    gettext_noop("Billing triage"),
    gettext_noop("Messages about invoices, refunds or charges are tagged and routed to the billing team."),
    # cancellation-retention-crm.json
    gettext_noop("Cancellation: retention + CRM"),
    gettext_noop("Customers who want to cancel go to the retention team and the CRM is told through a webhook."),
    # demo-request-ticket.json
    gettext_noop("Demo request: ticket + confirmation"),
    gettext_noop("A request for a demo becomes a ticket for sales and the customer gets a confirmation email."),
    # enterprise-upgrade-slack.json
    gettext_noop("Enterprise upgrade: tell sales on Slack"),
    gettext_noop("When a contact's plan changes to enterprise, post it to the sales channel."),
    # negative-sentiment-escalation.json
    gettext_noop("Negative sentiment: escalate"),
    gettext_noop(
        "When the average sentiment of a conversation falls below 0.3, tag it and escalate it to a senior team."
    ),
    # new-contact-enrich.json
    gettext_noop("New conversation: enrich from CRM"),
    gettext_noop(
        "On every new conversation, look the contact up in the CRM and tag the conversation with the plan it returns."
    ),
    # pending-reminder.json
    gettext_noop("Waiting on customer: reminder"),
    gettext_noop("Every hour, conversations pending for more than two days get a friendly reminder to the customer."),
    # pricing-lead-to-sales.json
    gettext_noop("Pricing question: lead to sales"),
    gettext_noop(
        "Questions about pricing, quotes or demos are tagged as leads, routed round robin to sales and sent to Zapier."
    ),
    # recording-transcribe-slack.json
    gettext_noop("Recording: transcribe + Slack"),
    gettext_noop("Each uploaded phone recording is transcribed and the transcript is posted to the QA channel."),
    # resolved-survey.json
    gettext_noop("Resolved: survey after one day"),
    gettext_noop(
        "One day after a conversation is resolved, send the customer a satisfaction survey (unless it was reopened)."
    ),
    # route-by-plan-branches.json
    gettext_noop("Route by plan with branches"),
    gettext_noop(
        "One workflow instead of three fighting over order: VIP contacts go to VIP Support with high "
        "priority, enterprise customers to Billing, everyone else to Support."
    ),
    # sla-breach-escalation.json
    gettext_noop("SLA breach escalation"),
    gettext_noop("When a first response is 15 minutes late, escalate to the escalations team with the transcript."),
    # sla-warning-sms.json
    gettext_noop("SLA warning: SMS the on-call lead"),
    gettext_noop("When a resolution target reaches its warning point, text the on-call team lead."),
    # spam-close.json
    gettext_noop("Spam disposition: close"),
    gettext_noop("A conversation set to the spam disposition is tagged and closed."),
    # stale-pending-close.json
    gettext_noop("Close stale pending conversations"),
    gettext_noop("Every hour, pending conversations idle for a week are closed with a note to the customer."),
    # vip-auto-route.json
    gettext_noop("VIP auto-route"),
    gettext_noop("New conversations from VIP contacts go straight to the VIP team with high priority."),
)
