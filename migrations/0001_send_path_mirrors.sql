CREATE TABLE `account_totals` (
	`account_id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`balance` text NOT NULL,
	`held` text NOT NULL,
	`fees` text NOT NULL,
	`topups` text NOT NULL,
	`deposits` text NOT NULL,
	`withdrawals` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `ledger_mirror` (
	`account_id` text NOT NULL,
	`entry_id` integer NOT NULL,
	`kind` text NOT NULL,
	`amount` text NOT NULL,
	`balance_after` text NOT NULL,
	`ref` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `entry_id`)
);
--> statement-breakpoint
CREATE TABLE `message_index` (
	`message_id` text PRIMARY KEY NOT NULL,
	`sender_id` text NOT NULL,
	`recipient_id` text NOT NULL,
	`price` text NOT NULL,
	`fee` text NOT NULL,
	`status` text NOT NULL,
	`tx_hash` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `message_index_sender` ON `message_index` (`sender_id`);--> statement-breakpoint
CREATE INDEX `message_index_recipient` ON `message_index` (`recipient_id`);