//! Pictures of a run: metric curves, heatmaps (attention, confusion), and 2-d scatter plots
//! of embeddings with the PCA that makes them.

use crate::metrics::MetricRow;
use std::path::Path;

/// Draws `metric` per epoch for the train and valid splits into a PNG.
pub fn plot_metric(
    rows: &[MetricRow],
    metric: &str,
    title: &str,
    path: &Path,
) -> anyhow::Result<()> {
    use plotters::prelude::*;
    register_font();
    type Series<'a> = (&'a str, Vec<(f64, f64)>, RGBColor);
    let series: Vec<Series> = [("train", BLUE), ("valid", RED)]
        .into_iter()
        .map(|(split, color)| {
            let mut points: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| r.split == split && r.metric == metric)
                .map(|r| (r.epoch as f64, r.value))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            (split, points, color)
        })
        .filter(|(_, points, _)| !points.is_empty())
        .collect();
    if series.is_empty() {
        return Ok(());
    }
    let [_, x_max, y_min, y_max] = bounds(series.iter().flat_map(|(_, p, _)| p.iter().copied()));
    let x_max = x_max.max(1.0);
    let pad = ((y_max - y_min) * 0.1).max(1e-3);
    let root = BitMapBackend::new(path, (800, 500)).into_drawing_area();
    let mut chart = chart(
        &root,
        title,
        70,
        0.5..x_max + 0.5,
        (y_min - pad)..(y_max + pad),
    )?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_labels((x_max as usize).min(20))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_desc(metric)
        .draw()?;
    for (split, points, color) in series {
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(split)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 3, color.filled())),
        )?;
    }
    finish(&mut chart, &root, SeriesLabelPosition::MiddleRight)
}

type Area<'a> =
    plotters::drawing::DrawingArea<plotters::prelude::BitMapBackend<'a>, plotters::coord::Shift>;
type Chart<'a, 'b> = plotters::chart::ChartContext<
    'a,
    plotters::prelude::BitMapBackend<'b>,
    plotters::prelude::Cartesian2d<
        plotters::coord::types::RangedCoordf64,
        plotters::coord::types::RangedCoordf64,
    >,
>;

/// A white canvas with the title and axes every plot here shares.
fn chart<'a, 'b>(
    root: &'a Area<'b>,
    title: &str,
    y_label_width: u32,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
) -> anyhow::Result<Chart<'a, 'b>> {
    use plotters::prelude::*;
    root.fill(&WHITE)?;
    Ok(ChartBuilder::on(root)
        .caption(title, ("sans-serif", 24))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(y_label_width)
        .build_cartesian_2d(x, y)?)
}

/// Draws the legend at `legend` and writes the file.
fn finish<'a, 'b: 'a>(
    chart: &mut Chart<'a, 'b>,
    root: &Area,
    legend: plotters::chart::SeriesLabelPosition,
) -> anyhow::Result<()> {
    use plotters::prelude::*;
    chart
        .configure_series_labels()
        .position(legend)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// `[x_min, x_max, y_min, y_max]` of `points`.
fn bounds(points: impl Iterator<Item = (f64, f64)>) -> [f64; 4] {
    points.fold(
        [f64::MAX, f64::MIN, f64::MAX, f64::MIN],
        |[x0, x1, y0, y1], (x, y)| [x0.min(x), x1.max(x), y0.min(y), y1.max(y)],
    )
}

fn register_font() {
    static FONT: std::sync::Once = std::sync::Once::new();
    FONT.call_once(|| {
        let _ = plotters::style::register_font(
            "sans-serif",
            plotters::style::FontStyle::Normal,
            include_bytes!("../assets/DejaVuSansMono.ttf"),
        );
    });
}

/// A `[rows, cols]` matrix of values in [0, 1] (row-major) drawn as a heatmap: white for 0,
/// dark blue for 1, `row_labels` down the left, `col_labels` along the bottom (written
/// vertically). Each cell shows `cell_text` when given, else its value, when the grid is
/// small enough to read it.
pub struct Heatmap<'a> {
    pub values: &'a [f32],
    pub row_labels: &'a [String],
    pub col_labels: &'a [String],
    pub cell_text: Option<&'a [String]>,
    /// What the rows and the columns are (`["true class", "predicted class"]`).
    pub axes: Option<[&'a str; 2]>,
    pub title: &'a str,
}

impl Heatmap<'_> {
    /// Writes the heatmap as a PNG.
    pub fn draw(&self, path: &Path) -> anyhow::Result<()> {
        use plotters::prelude::*;
        use plotters::style::text_anchor::{HPos, Pos, VPos};
        let (rows, cols) = (self.row_labels.len(), self.col_labels.len());
        anyhow::ensure!(
            rows > 0 && cols > 0 && self.values.len() == rows * cols,
            "heatmap: {} values for {rows} × {cols} labels",
            self.values.len()
        );
        if let Some(text) = self.cell_text {
            anyhow::ensure!(text.len() == rows * cols, "heatmap: one text per cell");
        }
        register_font();
        let cell = (640 / rows.max(cols)).clamp(12, 96) as i32;
        let label_width = 12
            + 9 * self
                .row_labels
                .iter()
                .chain(self.col_labels)
                .map(|l| l.chars().count())
                .max()
                .unwrap_or(1) as i32;
        let axis_room = if self.axes.is_some() { 24 } else { 0 };
        let (left, top) = (axis_room + label_width, 44);
        // Wide enough for the title too (about 11 pixels a character at 18 points).
        let title_width = 20 + 11 * self.title.chars().count() as i32;
        let width = (left + cell * cols as i32 + 20).max(title_width) as u32;
        let height = (top + cell * rows as i32 + label_width + axis_room) as u32;
        let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        root.draw_text(
            self.title,
            &("sans-serif", 18).into_font().color(&BLACK),
            (10, 12),
        )?;
        let label = ("sans-serif", 14).into_font().color(&BLACK);
        for r in 0..rows {
            for c in 0..cols {
                let v = self.values[r * cols + c].clamp(0.0, 1.0) as f64;
                let shade = |full: f64| (255.0 - v * (255.0 - full)) as u8;
                let (x, y) = (left + c as i32 * cell, top + r as i32 * cell);
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    RGBColor(shade(8.0), shade(48.0), shade(107.0)).filled(),
                ))?;
                if cell >= 34 {
                    let ink = if v > 0.5 { &WHITE } else { &BLACK };
                    let style = ("sans-serif", 10)
                        .into_font()
                        .color(ink)
                        .pos(Pos::new(HPos::Center, VPos::Center));
                    let text = match self.cell_text {
                        Some(text) => text[r * cols + c].clone(),
                        None => format!("{v:.2}"),
                    };
                    root.draw_text(&text, &style, (x + cell / 2, y + cell / 2))?;
                }
            }
            let style = label.clone().pos(Pos::new(HPos::Right, VPos::Center));
            root.draw_text(
                &self.row_labels[r],
                &style,
                (left - 6, top + r as i32 * cell + cell / 2),
            )?;
        }
        let vertical = ("sans-serif", 14)
            .into_font()
            .transform(FontTransform::Rotate90)
            .color(&BLACK);
        for (c, text) in self.col_labels.iter().enumerate() {
            let x = left + c as i32 * cell + cell / 2 + 5;
            root.draw_text(text, &vertical, (x, top + rows as i32 * cell + 6))?;
        }
        if let Some([row_axis, col_axis]) = self.axes {
            let centre = Pos::new(HPos::Center, VPos::Center);
            let below = top + rows as i32 * cell + label_width + axis_room / 2;
            root.draw_text(
                col_axis,
                &label.clone().pos(centre),
                (left + cols as i32 * cell / 2, below),
            )?;
            let upwards = ("sans-serif", 14)
                .into_font()
                .transform(FontTransform::Rotate270)
                .color(&BLACK)
                .pos(centre);
            root.draw_text(row_axis, &upwards, (12, top + rows as i32 * cell / 2))?;
        }
        root.present()?;
        Ok(())
    }
}

/// Curves in the unit square (ROC, precision-recall), one colour each, with a legend; the
/// dashed diagonal of a coin toss when `diagonal`.
pub fn plot_curves(
    curves: &[(String, Vec<(f64, f64)>)],
    axes: [&str; 2],
    diagonal: bool,
    title: &str,
    path: &Path,
) -> anyhow::Result<()> {
    use plotters::chart::SeriesLabelPosition;
    LinePlot {
        curves,
        axes,
        x: 0.0..1.0,
        y: 0.0..1.02,
        diagonal,
        legend: if diagonal {
            SeriesLabelPosition::LowerRight
        } else {
            SeriesLabelPosition::LowerLeft
        },
        title,
    }
    .draw(path)
}

/// Lines over given ranges, one colour each (blue when alone), with a legend.
pub struct LinePlot<'a> {
    pub curves: &'a [(String, Vec<(f64, f64)>)],
    /// The x and y axes' names.
    pub axes: [&'a str; 2],
    pub x: std::ops::Range<f64>,
    pub y: std::ops::Range<f64>,
    /// The dashed diagonal from (0, 0) to (1, 1).
    pub diagonal: bool,
    pub legend: plotters::chart::SeriesLabelPosition,
    pub title: &'a str,
}

impl LinePlot<'_> {
    /// Writes the plot as a PNG.
    pub fn draw(&self, path: &Path) -> anyhow::Result<()> {
        use plotters::prelude::*;
        register_font();
        anyhow::ensure!(!self.curves.is_empty(), "nothing to plot");
        let root = BitMapBackend::new(path, (760, 700)).into_drawing_area();
        let mut chart = chart(&root, self.title, 60, self.x.clone(), self.y.clone())?;
        chart
            .configure_mesh()
            .x_desc(self.axes[0])
            .y_desc(self.axes[1])
            .draw()?;
        if self.diagonal {
            chart.draw_series(DashedLineSeries::new(
                [(0.0, 0.0), (1.0, 1.0)],
                6,
                4,
                BLACK.mix(0.4).stroke_width(1),
            ))?;
        }
        for (i, (label, points)) in self.curves.iter().enumerate() {
            let color = if self.curves.len() == 1 {
                BLUE.to_rgba()
            } else {
                Palette99::pick(i).to_rgba()
            };
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
                .label(label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        finish(&mut chart, &root, self.legend.clone())
    }
}

/// Projects `rows` (`[n, dim]`, row-major) onto their first two principal components:
/// centred, then the top eigenvectors of the covariance by power iteration with deflation.
pub fn pca_2d(rows: &[f32], dim: usize) -> Vec<[f64; 2]> {
    let n = rows.len() / dim.max(1);
    if n == 0 || dim == 0 {
        return Vec::new();
    }
    let mut mean = vec![0f64; dim];
    for row in rows.chunks_exact(dim) {
        row.iter().zip(&mut mean).for_each(|(v, m)| *m += *v as f64);
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut cov = vec![0f64; dim * dim];
    for row in rows.chunks_exact(dim) {
        let c: Vec<f64> = row.iter().zip(&mean).map(|(v, m)| *v as f64 - m).collect();
        for i in 0..dim {
            for j in 0..dim {
                cov[i * dim + j] += c[i] * c[j];
            }
        }
    }
    let mut components: Vec<Vec<f64>> = Vec::new();
    for k in 0..2.min(dim) {
        // A fixed, non-symmetric start vector keeps the result deterministic.
        let mut v: Vec<f64> = (0..dim).map(|i| 1.0 + (i + k) as f64 * 0.01).collect();
        for _ in 0..500 {
            let mut w: Vec<f64> = (0..dim)
                .map(|i| (0..dim).map(|j| cov[i * dim + j] * v[j]).sum())
                .collect();
            for c in &components {
                let dot: f64 = w.iter().zip(c).map(|(a, b)| a * b).sum();
                w.iter_mut().zip(c).for_each(|(a, b)| *a -= dot * b);
            }
            let norm = w.iter().map(|a| a * a).sum::<f64>().sqrt();
            if norm < 1e-12 {
                break;
            }
            w.iter_mut().for_each(|a| *a /= norm);
            let change: f64 = w.iter().zip(&v).map(|(a, b)| (a - b).abs()).sum();
            v = w;
            if change < 1e-10 {
                break;
            }
        }
        components.push(v);
    }
    while components.len() < 2 {
        components.push(vec![0.0; dim]);
    }
    rows.chunks_exact(dim)
        .map(|row| {
            let project = |c: &Vec<f64>| -> f64 {
                row.iter()
                    .zip(&mean)
                    .zip(c)
                    .map(|((v, m), w)| (*v as f64 - m) * w)
                    .sum()
            };
            [project(&components[0]), project(&components[1])]
        })
        .collect()
}

/// A scatter plot of 2-d points coloured by class, with a legend of `class_names`.
pub fn plot_scatter(
    points: &[[f64; 2]],
    classes: &[usize],
    class_names: &[String],
    title: &str,
    path: &Path,
) -> anyhow::Result<()> {
    use plotters::prelude::*;
    register_font();
    anyhow::ensure!(!points.is_empty(), "nothing to plot");
    let [x0, x1, y0, y1] = bounds(points.iter().map(|p| (p[0], p[1])));
    let (px, py) = (((x1 - x0) * 0.05).max(1e-6), ((y1 - y0) * 0.05).max(1e-6));
    let root = BitMapBackend::new(path, (900, 700)).into_drawing_area();
    let mut chart = chart(&root, title, 60, (x0 - px)..(x1 + px), (y0 - py)..(y1 + py))?;
    chart
        .configure_mesh()
        .x_desc("PC 1")
        .y_desc("PC 2")
        .draw()?;
    for (c, name) in class_names.iter().enumerate() {
        let color = Palette99::pick(c).to_rgba();
        chart
            .draw_series(
                points
                    .iter()
                    .zip(classes)
                    .filter(|(_, k)| **k == c)
                    .map(|(p, _)| Circle::new((p[0], p[1]), 3, color.filled())),
            )?
            .label(name.as_str())
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
    }
    finish(&mut chart, &root, SeriesLabelPosition::MiddleRight)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pca_finds_the_direction_of_largest_spread() {
        // Points along (1, 1, 0) with small noise on the third axis.
        let rows: Vec<f32> = (0..50)
            .flat_map(|i| {
                let t = i as f32 - 25.0;
                [t, t, if i % 2 == 0 { 0.1 } else { -0.1 }]
            })
            .collect();
        let projected = pca_2d(&rows, 3);
        assert_eq!(projected.len(), 50);
        let spread = |k: usize| projected.iter().map(|p| p[k] * p[k]).sum::<f64>();
        assert!(spread(0) > 1000.0 * spread(1));
        // The first component preserves distances along the line: |t - mean(t)| * sqrt(2).
        assert!((projected[0][0].abs() - 24.5 * 2f64.sqrt()).abs() < 1e-3);
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("scatter.png");
        let classes: Vec<usize> = (0..50).map(|i| i % 2).collect();
        plot_scatter(&projected, &classes, &["a".into(), "b".into()], "t", &png).unwrap();
        assert!(std::fs::metadata(&png).unwrap().len() > 1000);
    }
}
