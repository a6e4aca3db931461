//! Shops, address books, templates, penalties, evidence metadata and the service's own values.

use super::*;

fn address_row(r: &Row, at: usize) -> Result<Address, StoreError> {
    let phone: &str = r.try_get(at + 2)?;
    Ok(Address {
        id: AddressId(r.try_get(at)?),
        name: r.try_get(at + 1)?,
        phone: Phone::parse(phone).map_err(StoreError::Corrupt)?,
        region: r.try_get(at + 3)?,
        detail: r.try_get(at + 4)?,
    })
}

impl ShopReads for Pg<'_> {
    fn shop(&mut self, id: ShopId) -> Result<Option<ShopRecord>, StoreError> {
        let Some(r) = self.opt("SELECT name, profile, overrides FROM shops WHERE id = $1", &[&id.0])? else {
            return Ok(None);
        };
        let default_address = self
            .opt("SELECT id, name, phone, region, detail FROM addresses WHERE shop_id = $1 AND is_default", &[&id.0])?
            .map(|a| address_row(&a, 0))
            .transpose()?;
        Ok(Some(ShopRecord {
            id,
            name: r.try_get(0)?,
            profile: r.try_get(1)?,
            overrides: serde_json::from_str(r.try_get(2)?)?,
            default_address,
        }))
    }

    fn shops(&mut self) -> Result<Vec<ShopRecord>, StoreError> {
        let ids: Vec<i64> = self
            .query("SELECT id FROM shops ORDER BY id", &[])?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(s) = self.shop(ShopId(id))? {
                out.push(s);
            }
        }
        Ok(out)
    }

    fn address(&mut self, shop: ShopId, id: AddressId) -> Result<Option<Address>, StoreError> {
        self.opt(
            "SELECT id, name, phone, region, detail FROM addresses WHERE shop_id = $1 AND id = $2",
            &[&shop.0, &id.0],
        )?
        .map(|r| address_row(&r, 0))
        .transpose()
    }

    fn addresses(&mut self, shop: ShopId) -> Result<Vec<(Address, bool)>, StoreError> {
        let rows = self.query(
            "SELECT id, name, phone, region, detail, is_default FROM addresses WHERE shop_id = $1 ORDER BY id",
            &[&shop.0],
        )?;
        rows.iter().map(|r| Ok((address_row(r, 0)?, r.try_get(5)?))).collect()
    }

    fn templates(&mut self, shop: ShopId) -> Result<Vec<ReplyTemplate>, StoreError> {
        let rows =
            self.query("SELECT id, title, body FROM reply_templates WHERE shop_id = $1 ORDER BY id", &[&shop.0])?;
        rows.iter()
            .map(|r| Ok(ReplyTemplate { id: r.try_get(0)?, shop_id: shop, title: r.try_get(1)?, body: r.try_get(2)? }))
            .collect()
    }

    fn penalties(&mut self, shop: ShopId) -> Result<Vec<Penalty>, StoreError> {
        let rows = self.query(
            "SELECT case_id, reason, amount_minor, currency, created_at FROM penalties WHERE shop_id = $1 ORDER BY id",
            &[&shop.0],
        )?;
        rows.iter()
            .map(|r| {
                let currency = Currency::parse(r.try_get(3)?).map_err(StoreError::Corrupt)?;
                Ok(Penalty {
                    shop_id: shop,
                    case_id: CaseId(r.try_get(0)?),
                    reason: r.try_get(1)?,
                    amount: Money::new(r.try_get(2)?, currency).map_err(StoreError::Corrupt)?,
                    at: Timestamp(r.try_get(4)?),
                })
            })
            .collect()
    }
}

impl ShopWrites for Pg<'_> {
    fn insert_shop(&mut self, name: &str, profile: &str, overrides: &PolicyOverrides) -> Result<ShopId, StoreError> {
        let overrides = serde_json::to_string(overrides)?;
        Ok(ShopId(self.insert_id(
            "INSERT INTO shops (name, profile, overrides, created_at) VALUES ($1, $2, $3, 0) RETURNING id",
            &[&name, &profile, &overrides],
        )?))
    }

    fn update_shop(&mut self, id: ShopId, profile: &str, overrides: &PolicyOverrides) -> Result<bool, StoreError> {
        let overrides = serde_json::to_string(overrides)?;
        let n =
            self.exec("UPDATE shops SET profile = $1, overrides = $2 WHERE id = $3", &[&profile, &overrides, &id.0])?;
        Ok(n == 1)
    }

    fn insert_address(&mut self, shop: ShopId, a: &AddressInput) -> Result<AddressId, StoreError> {
        if a.is_default {
            self.exec("UPDATE addresses SET is_default = false WHERE shop_id = $1 AND is_default", &[&shop.0])?;
        }
        Ok(AddressId(self.insert_id(
            "INSERT INTO addresses (shop_id, name, phone, region, detail, is_default) VALUES ($1, $2, $3, $4, $5, $6) \
             RETURNING id",
            &[&shop.0, &a.name, &a.phone.as_str(), &a.region, &a.detail, &a.is_default],
        )?))
    }

    fn insert_template(&mut self, shop: ShopId, title: &str, body: &str) -> Result<i64, StoreError> {
        self.insert_id(
            "INSERT INTO reply_templates (shop_id, title, body) VALUES ($1, $2, $3) RETURNING id",
            &[&shop.0, &title, &body],
        )
    }

    fn delete_template(&mut self, shop: ShopId, id: i64) -> Result<bool, StoreError> {
        Ok(self.exec("DELETE FROM reply_templates WHERE shop_id = $1 AND id = $2", &[&shop.0, &id])? == 1)
    }

    fn insert_penalty(&mut self, p: &Penalty) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO penalties (shop_id, case_id, reason, amount_minor, currency, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&p.shop_id.0, &p.case_id.0, &p.reason, &p.amount.minor(), &p.amount.currency().as_str(), &p.at.0],
        )?;
        Ok(())
    }
}

impl EvidenceReads for Pg<'_> {
    fn evidence_object(&mut self, key: &str) -> Result<Option<EvidenceObject>, StoreError> {
        let Some(r) = self.opt(
            "SELECT uploader, shop_id, buyer_id, kind, content_type, size, sha256, created_at \
             FROM evidence_objects WHERE key = $1",
            &[&key],
        )?
        else {
            return Ok(None);
        };
        let kind: String = r.try_get(3)?;
        Ok(Some(EvidenceObject {
            key: key.to_string(),
            uploader: r.try_get(0)?,
            shop_id: r.try_get::<_, Option<i64>>(1)?.map(ShopId),
            buyer_id: r.try_get::<_, Option<i64>>(2)?.map(BuyerId),
            kind: serde_json::from_value(serde_json::Value::String(kind))?,
            content_type: r.try_get(4)?,
            size: r.try_get::<_, i64>(5)? as u64,
            sha256: r.try_get(6)?,
            created_at: Timestamp(r.try_get(7)?),
        }))
    }
}

impl EvidenceWrites for Pg<'_> {
    fn insert_evidence_object(&mut self, o: &EvidenceObject) -> Result<(), StoreError> {
        let kind = serde_json::to_value(o.kind)?;
        self.exec(
            "INSERT INTO evidence_objects (key, uploader, shop_id, buyer_id, kind, content_type, size, sha256, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &o.key,
                &o.uploader,
                &o.shop_id.map(|s| s.0),
                &o.buyer_id.map(|b| b.0),
                &kind.as_str().unwrap_or("image"),
                &o.content_type,
                &(o.size as i64),
                &o.sha256,
                &o.created_at.0,
            ],
        )?;
        Ok(())
    }
}

impl ServiceReads for Pg<'_> {
    fn setting(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.opt("SELECT value FROM settings WHERE key = $1", &[&key])?.map(|r| r.try_get(0)).transpose()?)
    }

    fn idempotency_get(&mut self, key: &str) -> Result<Option<(String, String)>, StoreError> {
        let row = self.opt("SELECT request_hash, response FROM idempotency WHERE key = $1", &[&key])?;
        Ok(row.map(|r| Ok::<_, ::postgres::Error>((r.try_get(0)?, r.try_get(1)?))).transpose()?)
    }
}

impl ServiceWrites for Pg<'_> {
    fn put_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
        Ok(())
    }

    fn put_setting_if_absent(&mut self, key: &str, value: &str) -> Result<bool, StoreError> {
        let n = self
            .exec("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", &[&key, &value])?;
        Ok(n > 0)
    }

    fn idempotency_put(
        &mut self,
        key: &str,
        request_hash: &str,
        response: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO idempotency (key, request_hash, response, created_at) VALUES ($1, $2, $3, $4)",
            &[&key, &request_hash, &response, &at.0],
        )?;
        Ok(())
    }
}
