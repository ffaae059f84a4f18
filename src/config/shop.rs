//! The `[shop]` of the watchlist, checked: the TikTok Shop products a shop follows, with its
//! own price of each when it sells the same.

use crate::model::EntityId;

/// One followed product.
#[derive(Debug, Clone, PartialEq)]
pub struct ShopProduct {
    pub product_id: String,
    /// The slug of its page address (`baume-karite-bio`), kept to ask for the same page.
    pub slug: String,
    /// The shop's own price for the same product, in the product's currency.
    pub my_price: Option<f64>,
}

impl ShopProduct {
    pub fn entity(&self) -> EntityId {
        EntityId::product(&self.product_id)
    }

    /// The product's page as TikTok names it.
    pub fn url(&self) -> String {
        format!(
            "https://www.tiktok.com/shop/pdp/{}/{}",
            self.slug, self.product_id
        )
    }
}

/// `[shop]`: where the products are sold, and which.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShopWatch {
    /// The region the shop sells in (`FR`): a product not for sale there is said so.
    pub region: String,
    pub products: Vec<ShopProduct>,
}

/// A product address as users copy it: `https://www.tiktok.com/shop/pdp/<slug>/<id>` (a query
/// is ignored) or the older `https://shop.tiktok.com/view/product/<id>`: its slug and id.
pub fn parse_product_url(raw: &str) -> Option<(String, String)> {
    let url = super::campaign::tiktok_address(raw)?;
    let segments: Vec<&str> = url.path_segments()?.filter(|s| !s.is_empty()).collect();
    let (slug, id) = match segments.as_slice() {
        ["shop", "pdp", slug, id] => ((*slug).to_owned(), *id),
        ["view", "product", id] => ("product".to_owned(), *id),
        _ => return None,
    };
    let slug_ok = !slug.is_empty()
        && slug.len() <= 200
        && slug
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    (slug_ok && crate::model::is_video_id(id)).then(|| (slug, id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_addresses_as_copied() {
        assert_eq!(
            parse_product_url(
                "https://www.tiktok.com/shop/pdp/baume-karite-bio/1729447605324124806?source=x"
            ),
            Some(("baume-karite-bio".into(), "1729447605324124806".into()))
        );
        assert_eq!(
            parse_product_url("https://shop.tiktok.com/view/product/1729447605324124806?region=FR"),
            Some(("product".into(), "1729447605324124806".into()))
        );
        for bad in [
            "https://www.tiktok.com/@lea/video/1",
            "https://www.tiktok.com/shop/pdp/baume/notanid",
            "https://shop.example.org/shop/pdp/baume/1729447605324124806",
            "https://www.tiktok.com/shop/c/soins/848776",
        ] {
            assert_eq!(parse_product_url(bad), None, "{bad}");
        }
    }
}
