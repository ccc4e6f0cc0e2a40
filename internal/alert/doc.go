// Package alert is Lumina's real-time alerting: baselines per (project, service, endpoint,
// model), rules evaluated on every committed worker batch, deduplicated alerts with
// cooldown and auto-resolve, and delivery to webhook, Slack, PagerDuty and Discord
// channels through a durable outbox with retries.
//
// The Engine keeps its baselines and rolling windows in memory, bounded, and persists them
// through the store so a restart resumes them. Engines in several worker processes share
// what must hold for all the traffic through the store: at most one open alert per dedup
// key (the store counts a second open as repeats), budget spend added to shared
// accumulators on each tick, and, with Config.Owner, each process's share of every
// baseline and its last arrivals, merged by the others on their refresh. Engine.Observe is a worker post-commit hook;
// Engine.Run is the short ticker for windowed rules, rule reloads and snapshots; a
// Dispatcher, run apart from the worker, drains the outbox so a dead channel never slows
// ingestion.
package alert
