CREATE TABLE `channels` (
	`user_id` text NOT NULL,
	`channel` text NOT NULL,
	`status` text NOT NULL,
	`consent_version` text NOT NULL,
	`consent_at` integer NOT NULL,
	`connected_at` integer,
	`include_body` integer DEFAULT false NOT NULL,
	`min_price` text DEFAULT '0' NOT NULL,
	`ciphertext` text,
	`iv` text,
	`key_version` integer,
	`subject_index` text,
	`connect_token_hash` text,
	`connect_expires_at` integer,
	`last_delivered_at` integer,
	`last_error` text,
	`last_error_at` integer,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `channel`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `channels_subject` ON `channels` (`channel`,`subject_index`);--> statement-breakpoint
CREATE UNIQUE INDEX `channels_connect_token` ON `channels` (`connect_token_hash`);--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`key` text NOT NULL,
	`channel` text NOT NULL,
	`user_id` text NOT NULL,
	`job` text NOT NULL,
	`last_error` text,
	`created_at` integer NOT NULL,
	`redriven_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dead_letters_key` ON `dead_letters` (`key`,`channel`);--> statement-breakpoint
CREATE INDEX `dead_letters_created` ON `dead_letters` (`created_at`);--> statement-breakpoint
CREATE TABLE `deliveries` (
	`key` text NOT NULL,
	`channel` text NOT NULL,
	`user_id` text NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`claimed_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`key`, `channel`)
);
--> statement-breakpoint
CREATE INDEX `deliveries_created` ON `deliveries` (`created_at`);--> statement-breakpoint
CREATE TABLE `delivery_attempts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`key` text NOT NULL,
	`channel` text NOT NULL,
	`user_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`outcome` text NOT NULL,
	`provider_code` integer NOT NULL,
	`provider_message_id` text,
	`provider_status` text,
	`latency_ms` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `delivery_attempts_created` ON `delivery_attempts` (`created_at`);--> statement-breakpoint
CREATE INDEX `delivery_attempts_key` ON `delivery_attempts` (`key`,`channel`);--> statement-breakpoint
CREATE INDEX `delivery_attempts_provider_id` ON `delivery_attempts` (`provider_message_id`);