"""The words the workflow editor and run pages show for config keys and enum values, in the viewer's language.

Keys and enum values stay machine names in definitions, JSON and the API (they are contract names in the SPEC); the
editor shows each one through `humanize` ("content_contains" -> "Content contains"), and `key_label` translates that
label. The catalogue below marks every label of the shipped step and trigger schemas for `makemessages`
(`gettext_noop`: the lookup happens at render time, in the active language); a key missing here shows in English.
"""

from django.utils.translation import gettext, gettext_noop

LABELS = frozenset(
    {
        gettext_noop("Action"),
        gettext_noop("Added"),
        gettext_noop("Agent"),
        gettext_noop("Agent offline"),
        gettext_noop("Agents"),
        gettext_noop("Answer provided"),
        gettext_noop("Approved"),
        gettext_noop("Attributes"),
        gettext_noop("Auto"),
        gettext_noop("Backend"),
        gettext_noop("Body"),
        gettext_noop("Boolean"),
        gettext_noop("Branches"),
        gettext_noop("Buttons"),
        gettext_noop("Channel"),
        gettext_noop("Channels"),
        gettext_noop("Closed"),
        gettext_noop("Condition"),
        gettext_noop("Conditions"),
        gettext_noop("Contact"),
        gettext_noop("Content contains"),
        gettext_noop("Content regex"),
        gettext_noop("Conversation"),
        gettext_noop("Customer"),
        gettext_noop("Days"),
        gettext_noop("Description"),
        gettext_noop("Dispositions"),
        gettext_noop("Else"),
        gettext_noop("Email"),
        gettext_noop("Emails"),
        gettext_noop("Enhanced"),
        gettext_noop("Event"),
        gettext_noop("Filter"),
        gettext_noop("Final"),
        gettext_noop("First response"),
        gettext_noop("Format"),
        gettext_noop("From"),
        gettext_noop("Generic"),
        gettext_noop("Handled by other action"),
        gettext_noop("Headers"),
        gettext_noop("High"),
        gettext_noop("Hours"),
        gettext_noop("Icon emoji"),
        gettext_noop("Icon url"),
        gettext_noop("Include internal"),
        gettext_noop("Include transcript"),
        gettext_noop("Input"),
        gettext_noop("Inputs"),
        gettext_noop("Integration"),
        gettext_noop("Intent threshold"),
        gettext_noop("Intents"),
        gettext_noop("Interval minutes"),
        gettext_noop("Key"),
        gettext_noop("Keys"),
        gettext_noop("Label"),
        gettext_noop("Language"),
        gettext_noop("Least busy"),
        gettext_noop("Live chat"),
        gettext_noop("Low"),
        gettext_noop("Match"),
        gettext_noop("Message"),
        gettext_noop("Method"),
        gettext_noop("Metrics"),
        gettext_noop("Minutes"),
        gettext_noop("Model"),
        gettext_noop("Name"),
        gettext_noop("Names"),
        gettext_noop("Need more information"),
        gettext_noop("Needs approval"),
        gettext_noop("New"),
        gettext_noop("Next response"),
        gettext_noop("No reply"),
        gettext_noop("Normal"),
        gettext_noop("Note"),
        gettext_noop("Number"),
        gettext_noop("On hold"),
        gettext_noop("Open"),
        gettext_noop("Operator"),
        gettext_noop("Path"),
        gettext_noop("Pending"),
        gettext_noop("Phone"),
        gettext_noop("Policies"),
        gettext_noop("Preset"),
        gettext_noop("Priority"),
        gettext_noop("Problem solved"),
        gettext_noop("Provider"),
        gettext_noop("Question"),
        gettext_noop("Queue"),
        gettext_noop("Reasons"),
        gettext_noop("Recipient"),
        gettext_noop("Record message"),
        gettext_noop("Removed"),
        gettext_noop("Resolution"),
        gettext_noop("Resolved"),
        gettext_noop("Round robin"),
        gettext_noop("Save as"),
        gettext_noop("Score max"),
        gettext_noop("Score min"),
        gettext_noop("Secret"),
        gettext_noop("Segments"),
        gettext_noop("Sender"),
        gettext_noop("Sender type"),
        gettext_noop("Sender types"),
        gettext_noop("Skills"),
        gettext_noop("Skills timeout"),
        gettext_noop("Spam"),
        gettext_noop("Specific"),
        gettext_noop("Status"),
        gettext_noop("Steps"),
        gettext_noop("Strategy"),
        gettext_noop("String"),
        gettext_noop("Subject"),
        gettext_noop("System"),
        gettext_noop("Tags"),
        gettext_noop("Target"),
        gettext_noop("Team"),
        gettext_noop("Teams"),
        gettext_noop("Text"),
        gettext_noop("Threshold"),
        gettext_noop("Threshold minutes"),
        gettext_noop("Timeout"),
        gettext_noop("Timeout seconds"),
        gettext_noop("Title"),
        gettext_noop("To"),
        gettext_noop("Translations"),
        gettext_noop("Urgent"),
        gettext_noop("Use markdown"),
        gettext_noop("Users"),
        gettext_noop("Value"),
        gettext_noop("Values"),
        gettext_noop("Via"),
        gettext_noop("Web"),
    }
)
ACRONYMS = {"ai": "AI", "api": "API", "sms": "SMS", "whatsapp": "WhatsApp", "url": "URL", "id": "ID", "sla": "SLA"}


def humanize(key: str) -> str:
    """A readable English label for a key or an enum value (upper-case values such as HTTP methods stay as they
    are)."""
    if key.isupper() or key in ACRONYMS:
        return ACRONYMS.get(key, key)
    return key.replace("_", " ").capitalize()


def key_label(key: str) -> str:
    """The label of a config key or enum value in the active language (its English label when not catalogued)."""
    label = humanize(key)
    return gettext(label) if label in LABELS else label


def key_words(key: str) -> str:
    """A key inside a running sentence ("strategy least busy"): lower-case English words, or its translated label
    (whose capitals are the language's own, e.g. German nouns)."""
    translated = key_label(key)
    if key in ACRONYMS:  # "url" -> "URL" in every language
        return ACRONYMS[key]
    return key.replace("_", " ") if translated == humanize(key) else translated
