ALTER TABLE `users` ADD `pricing` text;--> statement-breakpoint
ALTER TABLE `users` ADD `pricing_version` integer;