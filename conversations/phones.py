"""E.164 phone numbers, validated with the phonenumbers library (the same rules carriers use)."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def normalize_e164(value: str) -> str:
    """Return `value` in E.164 form (+4930123456) or raise ValidationError saying why it is not a phone number."""
    text = (value or "").strip()
    if not text.startswith("+"):
        raise ValidationError(_("Enter the number in international E.164 form, starting with + and the country code."))
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Not a phone number: %(exc)s.") % {"exc": exc}) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(_("Not a valid phone number for its country code."))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def validate_e164(value: str) -> None:
    """Model-field validator: the stored value must already be in E.164 form."""
    if value and normalize_e164(value) != value:
        raise ValidationError(_("Phone numbers are stored in E.164 form, e.g. +14155550123."))
