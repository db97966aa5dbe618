"""The channels room (docs/channels.md): inboxes; the doors customers' mail comes in through (IMAP polling, the raw message
endpoint, provider webhooks), all behind one import service (`inboxes.inbound.import_raw_mail`); and the answers
going out (`inboxes.outbound`: mail over SMTP, the API channel's signed callbacks)."""
