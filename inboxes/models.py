"""The channels' tables (Inbox, EmailHeaders, Attachment, Delivery) live in `conversations.models`, beside the
messages they belong to. This module exists so Django sends this app its post_migrate signal (the IMAP poll
schedule is written then)."""
