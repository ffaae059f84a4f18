//! Small PNG charts of an item's recent rate, drawn without any font.
//!
//! The crate draws no text on purpose (a Raspberry Pi service has no font installed, and text
//! in an image is lost to screen readers and to dark mode): the chart is the shapes — the
//! usual level as a band, the rate as an area under a line, the take-off as a dashed line,
//! the last value as a dot — and the HTML around it carries the axis labels, computed here so
//! that they match the drawing ([`Chart::y_max`], [`Chart::from`], [`Chart::to`]). Charts
//! must never fail a digest: an empty or flat series still yields a valid image.

use plotters::prelude::*;

use crate::model::UnixSeconds;

pub const WIDTH: u32 = 480;
pub const HEIGHT: u32 = 140;

/// Where the plot area sits in the image, so the HTML labels line up with it.
const MARGIN: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("cannot draw the chart: {0}")]
    Draw(String),
    #[error("cannot encode the chart as PNG")]
    Encode(#[from] png::EncodingError),
}

/// What to draw.
#[derive(Debug, Clone, Copy)]
pub struct ChartSpec<'a> {
    /// (time, rate per hour), sorted by time.
    pub points: &'a [(UnixSeconds, f64)],
    /// The time span shown, left to right.
    pub from: UnixSeconds,
    pub to: UnixSeconds,
    /// The usual range of the rate, drawn as a band.
    pub band: Option<(f64, f64)>,
    /// The start of the movement, drawn as a dashed vertical line.
    pub marker: Option<UnixSeconds>,
}

/// A drawn chart and the scale it was drawn on.
#[derive(Debug, Clone)]
pub struct Chart {
    pub png: Vec<u8>,
    /// The top of the y axis (the bottom is 0), a round number.
    pub y_max: f64,
    pub from: UnixSeconds,
    pub to: UnixSeconds,
}

const ACCENT: RGBColor = RGBColor(214, 51, 108);
const BAND: RGBColor = RGBColor(120, 120, 128);
const GRID: RGBColor = RGBColor(226, 226, 230);
const MARKER: RGBColor = RGBColor(60, 60, 67);

/// Draws `spec` as a [`WIDTH`]×[`HEIGHT`] PNG.
pub fn rate_chart(spec: &ChartSpec<'_>) -> Result<Chart, ChartError> {
    let (from, to) = if spec.to > spec.from {
        (spec.from, spec.to)
    } else {
        (spec.from - 1, spec.from + 1)
    };
    let pts: Vec<(f64, f64)> = spec
        .points
        .iter()
        .filter(|(t, v)| v.is_finite() && *t >= from && *t <= to)
        .map(|&(t, v)| (t as f64, v.max(0.0)))
        .collect();
    let highest = pts
        .iter()
        .map(|p| p.1)
        .chain(spec.band.map(|b| b.1))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let y_max = nice_ceiling(highest * 1.05);
    let (x0, x1) = (from as f64, to as f64);
    let mut rgb = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let draw = |e: DrawingAreaErrorKind<_>| ChartError::Draw(e.to_string());
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(MARGIN)
            .build_cartesian_2d(x0..x1, 0.0..y_max)
            .map_err(draw)?;
        // Grid lines at the quarters the HTML scale names (0, half, top), and one per day.
        for f in [0.0, 0.5, 1.0] {
            chart
                .draw_series(LineSeries::new([(x0, y_max * f), (x1, y_max * f)], GRID))
                .map_err(draw)?;
        }
        let mut day = (from / 86_400 + 1) * 86_400;
        while day < to {
            let x = day as f64;
            chart
                .draw_series(LineSeries::new(
                    [(x, 0.0), (x, y_max * 0.04)],
                    GRID.stroke_width(1),
                ))
                .map_err(draw)?;
            day += 86_400;
        }
        if let Some((lo, hi)) = spec.band.filter(|b| b.0.is_finite() && b.1.is_finite()) {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x0, lo.max(0.0)), (x1, hi.min(y_max))],
                    BAND.mix(0.16).filled(),
                )))
                .map_err(draw)?;
        }
        chart
            .draw_series(AreaSeries::new(pts.iter().copied(), 0.0, ACCENT.mix(0.16)))
            .map_err(draw)?;
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), ACCENT.stroke_width(2)))
            .map_err(draw)?;
        if let Some(m) = spec.marker.filter(|m| *m >= from && *m <= to) {
            let x = m as f64;
            let dashes = (0..12).map(|k| {
                let a = y_max * (k as f64) / 12.0;
                PathElement::new(vec![(x, a), (x, a + y_max / 24.0)], MARKER.stroke_width(1))
            });
            chart.draw_series(dashes).map_err(draw)?;
        }
        if let Some(&last) = pts.last() {
            chart
                .draw_series(std::iter::once(Circle::new(last, 4, ACCENT.filled())))
                .map_err(draw)?;
        }
        root.present().map_err(draw)?;
    }
    Ok(Chart {
        png: encode(&rgb, WIDTH, HEIGHT)?,
        y_max,
        from,
        to,
    })
}

/// The colours of [`lines_chart`]'s lines, in order; the HTML legend uses the same.
pub const PALETTE: [(u8, u8, u8); 6] = [
    (214, 51, 108),
    (25, 113, 194),
    (47, 158, 68),
    (240, 140, 0),
    (112, 72, 232),
    (12, 166, 120),
];

/// Height of a [`lines_chart`]: taller than an item's chart, it holds several lines.
pub const LINES_HEIGHT: u32 = 220;

/// Several cumulative curves (a campaign's videos' views) over one time span, each in its
/// [`PALETTE`] colour (cycling), on a [`WIDTH`]×[`LINES_HEIGHT`] PNG; no text, like the others.
pub fn lines_chart(
    lines: &[Vec<(UnixSeconds, f64)>],
    from: UnixSeconds,
    to: UnixSeconds,
) -> Result<Chart, ChartError> {
    let (from, to) = if to > from {
        (from, to)
    } else {
        (from - 1, from + 1)
    };
    let highest = lines
        .iter()
        .flatten()
        .map(|p| p.1)
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let y_max = nice_ceiling(highest * 1.05);
    let (x0, x1) = (from as f64, to as f64);
    let mut rgb = vec![255u8; (WIDTH * LINES_HEIGHT * 3) as usize];
    {
        let draw = |e: DrawingAreaErrorKind<_>| ChartError::Draw(e.to_string());
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, LINES_HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(MARGIN)
            .build_cartesian_2d(x0..x1, 0.0..y_max)
            .map_err(draw)?;
        for f in [0.0, 0.5, 1.0] {
            chart
                .draw_series(LineSeries::new([(x0, y_max * f), (x1, y_max * f)], GRID))
                .map_err(draw)?;
        }
        for (i, line) in lines.iter().enumerate() {
            let (r, g, b) = PALETTE[i % PALETTE.len()];
            let colour = RGBColor(r, g, b);
            let pts: Vec<(f64, f64)> = line
                .iter()
                .filter(|(t, v)| v.is_finite() && *t >= from && *t <= to)
                .map(|&(t, v)| (t as f64, v.max(0.0)))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), colour.stroke_width(2)))
                .map_err(draw)?;
            if let Some(&last) = pts.last() {
                chart
                    .draw_series(std::iter::once(Circle::new(last, 3, colour.filled())))
                    .map_err(draw)?;
            }
        }
        root.present().map_err(draw)?;
    }
    Ok(Chart {
        png: encode(&rgb, WIDTH, LINES_HEIGHT)?,
        y_max,
        from,
        to,
    })
}

/// An RGB buffer as a PNG file.
fn encode(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ChartError> {
    let mut png_bytes = Vec::with_capacity(8 * 1024);
    let mut enc = png::Encoder::new(&mut png_bytes, width, height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Best);
    let mut w = enc.write_header()?;
    w.write_image_data(rgb)?;
    w.finish()?;
    Ok(png_bytes)
}

/// The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above `v` (1 for nothing to show), so the scale
/// reads as a round number.
pub fn nice_ceiling(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|c| *c >= v * (1.0 - 1e-12))
        .unwrap_or(10.0 * p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_small_pngs_even_for_empty_series() {
        let pts: Vec<(i64, f64)> = (0..48).map(|i| (i * 3600, (i * i) as f64)).collect();
        for series in [&pts[..], &[][..], &pts[..1]] {
            let spec = ChartSpec {
                points: series,
                from: 0,
                to: 47 * 3600,
                band: Some((100.0, 300.0)),
                marker: Some(30 * 3600),
            };
            let chart = rate_chart(&spec).unwrap();
            assert_eq!(&chart.png[..8], b"\x89PNG\r\n\x1a\n");
            assert!(chart.png.len() < 20_000, "{}", chart.png.len());
            assert!(chart.y_max >= 300.0);
        }
    }

    #[test]
    fn the_scale_is_a_round_number_above_the_data() {
        assert_eq!(nice_ceiling(2_209.0), 2_500.0);
        assert_eq!(nice_ceiling(41_000.0), 50_000.0);
        assert_eq!(nice_ceiling(1_000.0), 1_000.0);
        assert_eq!(nice_ceiling(0.3), 0.5);
        assert_eq!(nice_ceiling(0.0), 1.0);
    }
}
