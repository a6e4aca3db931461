//! Shops, address books, templates, penalties, evidence metadata and the service's own values.

use super::*;

impl ShopReads for Sql<'_> {
    fn shop(&mut self, id: ShopId) -> Result<Option<ShopRecord>, StoreError> {
        let row = self
            .conn
            .prepare_cached("SELECT name, profile, overrides FROM shops WHERE id = ?")?
            .query_row([id.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
            .optional()?;
        let Some((name, profile, overrides)) = row else { return Ok(None) };
        let default_address = self
            .conn
            .prepare_cached("SELECT id FROM addresses WHERE shop_id = ? AND is_default = 1")?
            .query_row([id.0], |r| r.get::<_, i64>(0))
            .optional()?;
        let default_address = match default_address {
            Some(a) => self.address(id, AddressId(a))?,
            None => None,
        };
        Ok(Some(ShopRecord { id, name, profile, overrides: serde_json::from_str(&overrides)?, default_address }))
    }

    fn shops(&mut self) -> Result<Vec<ShopRecord>, StoreError> {
        let ids: Vec<i64> = {
            let mut st = self.conn.prepare_cached("SELECT id FROM shops ORDER BY id")?;
            let rows = st.query_map([], |r| r.get::<_, i64>(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(s) = self.shop(ShopId(id))? {
                out.push(s);
            }
        }
        Ok(out)
    }

    fn address(&mut self, shop: ShopId, id: AddressId) -> Result<Option<Address>, StoreError> {
        let row = self
            .conn
            .prepare_cached("SELECT name, phone, region, detail FROM addresses WHERE shop_id = ? AND id = ?")?
            .query_row(params![shop.0, id.0], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
            })
            .optional()?;
        let Some((name, phone, region, detail)) = row else { return Ok(None) };
        let phone = Phone::parse(&phone).map_err(StoreError::Corrupt)?;
        Ok(Some(Address { id, name, phone, region, detail }))
    }

    fn addresses(&mut self, shop: ShopId) -> Result<Vec<(Address, bool)>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, name, phone, region, detail, is_default FROM addresses WHERE shop_id = ? ORDER BY id",
        )?;
        let rows = st.query_map([shop.0], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, bool>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, phone, region, detail, is_default) = row?;
            let phone = Phone::parse(&phone).map_err(StoreError::Corrupt)?;
            out.push((Address { id: AddressId(id), name, phone, region, detail }, is_default));
        }
        Ok(out)
    }

    fn templates(&mut self, shop: ShopId) -> Result<Vec<ReplyTemplate>, StoreError> {
        let mut st =
            self.conn.prepare_cached("SELECT id, title, body FROM reply_templates WHERE shop_id = ? ORDER BY id")?;
        let rows = st.query_map([shop.0], |r| {
            Ok(ReplyTemplate { id: r.get(0)?, shop_id: shop, title: r.get(1)?, body: r.get(2)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn penalties(&mut self, shop: ShopId) -> Result<Vec<Penalty>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT case_id, reason, amount_minor, currency, created_at FROM penalties WHERE shop_id = ? ORDER BY id",
        )?;
        let rows = st.query_map([shop.0], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (case_id, reason, minor, currency, at) = row?;
            let currency = Currency::parse(&currency).map_err(StoreError::Corrupt)?;
            out.push(Penalty {
                shop_id: shop,
                case_id: CaseId(case_id),
                reason,
                amount: Money::new(minor, currency).map_err(StoreError::Corrupt)?,
                at: Timestamp(at),
            });
        }
        Ok(out)
    }
}

impl ShopWrites for Sql<'_> {
    fn insert_shop(&mut self, name: &str, profile: &str, overrides: &PolicyOverrides) -> Result<ShopId, StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached("INSERT INTO shops (name, profile, overrides, created_at) VALUES (?, ?, ?, 0)")?
            .execute(params![name, profile, serde_json::to_string(overrides)?])?;
        Ok(ShopId(self.conn.last_insert_rowid()))
    }

    fn update_shop(&mut self, id: ShopId, profile: &str, overrides: &PolicyOverrides) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached("UPDATE shops SET profile = ?, overrides = ? WHERE id = ?")?
            .execute(params![profile, serde_json::to_string(overrides)?, id.0])?;
        self.dirty |= n > 0;
        Ok(n == 1)
    }

    fn insert_address(&mut self, shop: ShopId, a: &AddressInput) -> Result<AddressId, StoreError> {
        self.dirty = true;
        if a.is_default {
            self.conn.prepare_cached("UPDATE addresses SET is_default = 0 WHERE shop_id = ?")?.execute([shop.0])?;
        }
        self.conn
            .prepare_cached(
                "INSERT INTO addresses (shop_id, name, phone, region, detail, is_default) VALUES (?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![shop.0, a.name, a.phone.as_str(), a.region, a.detail, a.is_default as i64])?;
        Ok(AddressId(self.conn.last_insert_rowid()))
    }

    fn insert_template(&mut self, shop: ShopId, title: &str, body: &str) -> Result<i64, StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached("INSERT INTO reply_templates (shop_id, title, body) VALUES (?, ?, ?)")?
            .execute(params![shop.0, title, body])?;
        Ok(self.conn.last_insert_rowid())
    }

    fn delete_template(&mut self, shop: ShopId, id: i64) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached("DELETE FROM reply_templates WHERE shop_id = ? AND id = ?")?
            .execute(params![shop.0, id])?;
        self.dirty |= n > 0;
        Ok(n == 1)
    }

    fn insert_penalty(&mut self, p: &Penalty) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached(
                "INSERT INTO penalties (shop_id, case_id, reason, amount_minor, currency, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![p.shop_id.0, p.case_id.0, p.reason, p.amount.minor(), p.amount.currency().as_str(), p.at.0])?;
        Ok(())
    }
}

impl EvidenceReads for Sql<'_> {
    fn evidence_object(&mut self, key: &str) -> Result<Option<EvidenceObject>, StoreError> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT uploader, shop_id, buyer_id, kind, content_type, size, sha256, created_at \
                 FROM evidence_objects WHERE key = ?",
            )?
            .query_row([key], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, i64>(7)?,
                ))
            })
            .optional()?;
        let Some((uploader, shop, buyer, kind, content_type, size, sha256, at)) = row else { return Ok(None) };
        let kind: EvidenceKind = serde_json::from_value(serde_json::Value::String(kind))?;
        Ok(Some(EvidenceObject {
            key: key.to_string(),
            uploader,
            shop_id: shop.map(ShopId),
            buyer_id: buyer.map(BuyerId),
            kind,
            content_type,
            size: size as u64,
            sha256,
            created_at: Timestamp(at),
        }))
    }
}

impl EvidenceWrites for Sql<'_> {
    fn insert_evidence_object(&mut self, o: &EvidenceObject) -> Result<(), StoreError> {
        self.dirty = true;
        let kind = serde_json::to_value(o.kind)?;
        self.conn
            .prepare_cached(
                "INSERT INTO evidence_objects (key, uploader, shop_id, buyer_id, kind, content_type, size, sha256, \
                 created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                o.key,
                o.uploader,
                o.shop_id.map(|s| s.0),
                o.buyer_id.map(|b| b.0),
                kind.as_str().unwrap_or("image"),
                o.content_type,
                o.size as i64,
                o.sha256,
                o.created_at.0
            ])?;
        Ok(())
    }
}

impl ServiceReads for Sql<'_> {
    fn setting(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM settings WHERE key = ?")?
            .query_row([key], |r| r.get::<_, String>(0))
            .optional()?)
    }

    fn idempotency_get(&mut self, key: &str) -> Result<Option<(String, String)>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT request_hash, response FROM idempotency WHERE key = ?")?
            .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }
}

impl ServiceWrites for Sql<'_> {
    fn put_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![key, value])?;
        Ok(())
    }

    fn put_setting_if_absent(&mut self, key: &str, value: &str) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING")?
            .execute(params![key, value])?;
        self.dirty |= n > 0;
        Ok(n > 0)
    }

    fn idempotency_put(
        &mut self,
        key: &str,
        request_hash: &str,
        response: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached("INSERT INTO idempotency (key, request_hash, response, created_at) VALUES (?, ?, ?, ?)")?
            .execute(params![key, request_hash, response, at.0])?;
        Ok(())
    }
}
