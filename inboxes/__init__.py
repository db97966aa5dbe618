"""The channels room (SPEC §13): inboxes, and the doors customers' mail comes in through (IMAP polling, the raw
message endpoint, provider webhooks), all behind one import service (`inboxes.inbound.import_raw_mail`)."""
