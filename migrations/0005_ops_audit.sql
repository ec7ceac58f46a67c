CREATE TABLE `audit_checkpoints` (
	`id` integer PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	`accounts` integer NOT NULL,
	`root` text NOT NULL,
	`signature` text NOT NULL,
	`public_key` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `audit_leaves` (
	`checkpoint_id` integer NOT NULL,
	`account_id` text NOT NULL,
	`seq` integer NOT NULL,
	`head` text NOT NULL,
	PRIMARY KEY(`checkpoint_id`, `account_id`)
);
--> statement-breakpoint
CREATE TABLE `ops_counters` (
	`bucket` integer NOT NULL,
	`metric` text NOT NULL,
	`value` integer NOT NULL,
	PRIMARY KEY(`bucket`, `metric`)
);
--> statement-breakpoint
ALTER TABLE `account_totals` ADD `audit_head` text;