//! The daemon's own records in the store: alert history for the digest cooldown, the mail
//! outbox, bookkeeping values and the discovered tags it tracks.

use sled::transaction::Transactional;
use sled::Batch;

use super::*;

impl Store {
    pub fn alert_last(&self, key: &str) -> Result<Option<AlertRecord>, StoreError> {
        match self
            .inner
            .alerts
            .get(key.as_bytes())
            .map_err(|e| self.err(e))?
        {
            Some(raw) => Ok(Some(
                records::decode_alert(&raw).map_err(|e| self.corrupt(e))?,
            )),
            None => Ok(None),
        }
    }

    /// Records reported alerts, durably.
    pub fn alerts_record(&self, items: &[(String, AlertRecord)]) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        for (key, rec) in items {
            batch.insert(key.as_bytes(), records::encode_alert(rec));
        }
        self.inner
            .alerts
            .apply_batch(batch)
            .map_err(|e| self.err(e))?;
        self.flush()
    }

    /// Queues a digest in one durable transaction: the outbox item, the alert history of its
    /// items and the daemon's own records (`meta`, e.g. when the last digest was made). A
    /// crash can never leave a queued digest whose "last digest" is not recorded, which
    /// would make a second digest with a new Message-ID.
    pub fn queue_digest(
        &self,
        item: &OutboxItem,
        alerts: &[(String, AlertRecord)],
        meta: &[(&str, Vec<u8>)],
    ) -> Result<(), StoreError> {
        let mut alert_batch = Batch::default();
        for (key, rec) in alerts {
            alert_batch.insert(key.as_bytes(), records::encode_alert(rec));
        }
        let mut meta_batch = Batch::default();
        for (key, value) in meta {
            meta_batch.insert(key.as_bytes(), value.as_slice());
        }
        let encoded = records::encode_outbox(item);
        let i = &self.inner;
        (&i.outbox, &i.alerts, &i.meta)
            .transaction(|(o, a, m)| {
                o.insert(item.id.as_bytes(), encoded.as_slice())?;
                a.apply_batch(&alert_batch)?;
                m.apply_batch(&meta_batch)?;
                Ok(())
            })
            .map_err(|e| self.tx_err(e))?;
        self.flush()
    }

    /// Writes (or replaces) an outbox item; durable when this returns.
    pub fn outbox_put(&self, item: &OutboxItem) -> Result<(), StoreError> {
        self.inner
            .outbox
            .insert(item.id.as_bytes(), records::encode_outbox(item))
            .map_err(|e| self.err(e))?;
        self.flush()
    }

    pub fn outbox_get(&self, id: &str) -> Result<Option<OutboxItem>, StoreError> {
        match self
            .inner
            .outbox
            .get(id.as_bytes())
            .map_err(|e| self.err(e))?
        {
            Some(raw) => Ok(Some(
                records::decode_outbox(&raw).map_err(|e| self.corrupt(e))?,
            )),
            None => Ok(None),
        }
    }

    /// Every outbox item, newest first.
    pub fn outbox_list(&self) -> Result<Vec<OutboxItem>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.outbox.iter() {
            let (_, raw) = item.map_err(|e| self.err(e))?;
            out.push(records::decode_outbox(&raw).map_err(|e| self.corrupt(e))?);
        }
        out.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        Ok(out)
    }

    pub fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .inner
            .meta
            .get(key.as_bytes())
            .map_err(|e| self.err(e))?
            .map(|v| v.to_vec()))
    }

    /// Sets a bookkeeping value; durable when this returns.
    pub fn meta_set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.inner
            .meta
            .insert(key.as_bytes(), value)
            .map_err(|e| self.err(e))?;
        self.flush()
    }

    /// Removes a bookkeeping value; durable when this returns.
    pub fn meta_remove(&self, key: &str) -> Result<(), StoreError> {
        self.inner
            .meta
            .remove(key.as_bytes())
            .map_err(|e| self.err(e))?;
        self.flush()
    }

    /// Discovered hashtags that are now collected automatically.
    pub fn tracked_discovered(&self) -> Result<Vec<String>, StoreError> {
        match self.inner.sys.get(TRACKED_KEY).map_err(|e| self.err(e))? {
            Some(raw) => records::decode_strings(&raw).map_err(|e| self.corrupt(e)),
            None => Ok(Vec::new()),
        }
    }

    pub fn set_tracked_discovered(&self, tags: &[String]) -> Result<(), StoreError> {
        self.inner
            .sys
            .insert(TRACKED_KEY, records::encode_strings(tags))
            .map_err(|e| self.err(e))?;
        self.flush()
    }
}
