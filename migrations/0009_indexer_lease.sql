CREATE TABLE `indexer_leases` (
	`id` text PRIMARY KEY NOT NULL,
	`holder` text NOT NULL,
	`until` integer NOT NULL
);
