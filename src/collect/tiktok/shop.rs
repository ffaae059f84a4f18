//! TikTok Shop product pages: the `__MODERN_ROUTER_DATA__` script, its loader entry whose
//! `product_info` component holds the product (sold count, prices of its SKUs, rating,
//! reviews, seller, categories). Reviews carry reviewers' names and texts: only their count
//! and the average rating are read.

use serde_json::Value;

use super::{find_script, no_data, PageError};
use crate::model::{clean_text, Label, Metric};

/// What a product page gives.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductPage {
    pub sold: Option<u64>,
    /// The lowest price of its SKUs.
    pub price: Option<f64>,
    pub rating: Option<f64>,
    pub reviews: Option<u64>,
    pub label: Label,
}

impl ProductPage {
    pub fn metrics(&self) -> Vec<(Metric, f64)> {
        [
            (Metric::SOLD, self.sold.map(|v| v as f64)),
            (Metric::PRICE, self.price),
            (Metric::RATING, self.rating),
            (Metric::REVIEWS, self.reviews.map(|v| v as f64)),
        ]
        .into_iter()
        .filter_map(|(m, v)| v.map(|v| (m, v)))
        .collect()
    }
}

/// The error code of a product not for sale in the visitor's region.
const NOT_IN_REGION: i64 = 23_002_102;

/// Reads a product page; `product_id` is the one asked for (a page of another is refused).
pub fn parse_product_page(html: &str, product_id: &str) -> Result<ProductPage, PageError> {
    let Some(json) = find_script(html, "__MODERN_ROUTER_DATA__") else {
        return Err(no_data(html));
    };
    let root: Value = serde_json::from_str(json).map_err(|e| PageError::UnknownShape {
        path: format!("valid JSON in __MODERN_ROUTER_DATA__ ({e})"),
    })?;
    let loaders = root
        .get("loaderData")
        .and_then(Value::as_object)
        .ok_or_else(|| missing("/loaderData"))?;
    // The loader's key differs by host: find the component named `product_info`.
    let data = loaders
        .values()
        .filter_map(|l| l.pointer("/page_config/components_map")?.as_array())
        .flatten()
        .find(|c| c.get("component_name").and_then(Value::as_str) == Some("product_info"))
        .and_then(|c| c.get("component_data"))
        .ok_or_else(|| PageError::EmptyShell {
            path:
                "/loaderData/*/page_config/components_map[product_info] in __MODERN_ROUTER_DATA__"
                    .into(),
        })?;
    let code = data.get("error_code").and_then(Value::as_i64).unwrap_or(0);
    if code == NOT_IN_REGION {
        let region = data
            .get("sale_region")
            .and_then(Value::as_str)
            .map(|r| clean_text(r, 8))
            .unwrap_or_default();
        return Err(PageError::Region(format!(
            "error_code {code}, sold in {region}"
        )));
    }
    let Some(product) = data.get("product_info").filter(|p| p.is_object()) else {
        return Err(match code {
            0 => missing("product_info"),
            _ => PageError::NotFound(code),
        });
    };
    let id = product
        .get("product_id")
        .and_then(Value::as_str)
        .unwrap_or("");
    if id != product_id {
        return Err(PageError::OtherEntity {
            asked: format!("product {product_id}"),
            shown: format!("product {}", clean_text(id, 30)),
        });
    }
    // A product taken off sale still has a page, without its offer.
    if product
        .get("status")
        .and_then(Value::as_i64)
        .is_some_and(|s| s != 1)
    {
        return Err(PageError::NotFound(code));
    }
    let base = product
        .get("product_base")
        .ok_or_else(|| missing("product_info/product_base"))?;
    let number = |v: Option<&Value>| -> Option<f64> {
        match v? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
    };
    let sku_low = product
        .get("skus")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| number(s.pointer("/price/real_price/price_val")))
        .fold(None, |low: Option<f64>, p| {
            Some(low.map_or(p, |l| l.min(p)))
        });
    let price = sku_low.or_else(|| number(base.pointer("/price/min_sku_price")));
    let currency = base
        .pointer("/price/currency")
        .and_then(Value::as_str)
        .map(|c| clean_text(c, 3).to_ascii_uppercase())
        .unwrap_or_default();
    let categories = data
        .get("categories")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("category_name").and_then(Value::as_str))
        .map(|n| clean_text(n, 60))
        .take(4)
        .collect();
    let review = product.get("product_detail_review");
    Ok(ProductPage {
        sold: number(base.get("sold_count")).map(|v| v as u64),
        price,
        rating: number(review.and_then(|r| r.get("product_rating"))).filter(|r| *r <= 5.0),
        reviews: number(review.and_then(|r| r.get("review_count"))).map(|v| v as u64),
        label: Label {
            title: clean_text(base.get("title").and_then(Value::as_str).unwrap_or(""), 160),
            seller: clean_text(
                product
                    .pointer("/seller/name")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
                80,
            ),
            currency,
            categories,
        },
    })
}

fn missing(path: &str) -> PageError {
    PageError::UnknownShape {
        path: format!("{path} in __MODERN_ROUTER_DATA__"),
    }
}
