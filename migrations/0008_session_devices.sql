ALTER TABLE `refresh_tokens` ADD `device` text;--> statement-breakpoint
ALTER TABLE `refresh_tokens` ADD `session_started_at` integer;