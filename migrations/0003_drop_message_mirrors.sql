DROP TABLE `ledger_mirror`;--> statement-breakpoint
DROP TABLE `message_index`;