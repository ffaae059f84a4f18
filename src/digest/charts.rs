//! Small PNG charts of an item's recent rate, drawn without any font.
//!
//! The crate has no font support on purpose (a Raspberry Pi service has none installed):
//! charts are an area and a line over a baseline, never text. Charts must never fail a
//! digest: an empty or flat series still yields a valid (flat) image.

use plotters::prelude::*;

use crate::model::UnixSeconds;

pub const WIDTH: u32 = 480;
pub const HEIGHT: u32 = 120;

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("cannot draw the chart: {0}")]
    Draw(String),
    #[error("cannot encode the chart as PNG: {0}")]
    Encode(#[from] png::EncodingError),
}

/// A 480×120 PNG of `points` (time, rate per hour): area under a line, on a light grid.
pub fn rate_chart(points: &[(UnixSeconds, f64)]) -> Result<Vec<u8>, ChartError> {
    let mut rgb = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| ChartError::Draw(e.to_string()))?;
        let pts: Vec<(f64, f64)> = points
            .iter()
            .filter(|(_, v)| v.is_finite())
            .map(|&(t, v)| (t as f64, v.max(0.0)))
            .collect();
        let (x0, x1) = match (pts.first(), pts.last()) {
            (Some(a), Some(b)) if b.0 > a.0 => (a.0, b.0),
            (Some(a), _) => (a.0 - 1.0, a.0 + 1.0),
            _ => (0.0, 1.0),
        };
        let ymax = pts.iter().map(|p| p.1).fold(0.0f64, f64::max);
        let ymax = if ymax > 0.0 { ymax * 1.1 } else { 1.0 };
        let mut chart = ChartBuilder::on(&root)
            .margin(6)
            .build_cartesian_2d(x0..x1, 0.0..ymax)
            .map_err(|e| ChartError::Draw(e.to_string()))?;
        // Grid lines drawn by hand: the mesh helper would try to draw label text.
        for f in [0.25, 0.5, 0.75] {
            chart
                .draw_series(LineSeries::new(
                    [(x0, ymax * f), (x1, ymax * f)],
                    RGBColor(232, 232, 232),
                ))
                .map_err(|e| ChartError::Draw(e.to_string()))?;
        }
        let accent = RGBColor(214, 51, 108);
        chart
            .draw_series(AreaSeries::new(pts.iter().copied(), 0.0, accent.mix(0.18)))
            .map_err(|e| ChartError::Draw(e.to_string()))?;
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), accent.stroke_width(2)))
            .map_err(|e| ChartError::Draw(e.to_string()))?;
        root.present()
            .map_err(|e| ChartError::Draw(e.to_string()))?;
    }
    let mut out = Vec::with_capacity(8 * 1024);
    {
        let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Best);
        let mut w = enc.write_header()?;
        w.write_image_data(&rgb)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_small_pngs_even_for_empty_series() {
        let pts: Vec<(i64, f64)> = (0..48).map(|i| (i * 3600, (i * i) as f64)).collect();
        for series in [&pts[..], &[][..], &pts[..1]] {
            let png = rate_chart(series).unwrap();
            assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
            assert!(png.len() < 20_000, "{}", png.len());
        }
    }
}
