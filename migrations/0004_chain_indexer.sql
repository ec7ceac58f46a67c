CREATE TABLE `chain_checkpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`block_number` integer NOT NULL,
	`block_hash` text NOT NULL,
	`block_time` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `unclaimed_deposits` (
	`address` text PRIMARY KEY NOT NULL,
	`amount` text NOT NULL,
	`last_block` integer NOT NULL,
	`last_log_index` integer NOT NULL,
	`updated_at` integer NOT NULL
);
