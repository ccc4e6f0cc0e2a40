-- Delivery attempts per channel (AlertStore.ChannelDeliveries): the outbox gets the
-- channel id as a column, filled from each stored item's document, and an index that
-- reads a channel's newest items first.
ALTER TABLE alert_deliveries ADD COLUMN channel_id TEXT NOT NULL DEFAULT '';
UPDATE alert_deliveries SET channel_id = coalesce(json_extract(doc, '$.channel_id'), '');
CREATE INDEX alert_deliveries_channel ON alert_deliveries (project_id, channel_id, created_at);
