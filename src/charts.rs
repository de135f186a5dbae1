//! Pictures a supervisor would rather look at than read: bars by unit, a trend over periods, a map
//! of the units coloured by a figure. All drawn as SVG by the app (no chart library: the wasm stays
//! small, and SVG prints sharp on A4). This module is the arithmetic (scales, map projection,
//! colour classes); `components::charts` renders it.

use serde_json::Value;

/// One unit's outline on the map: its code and its rings of (longitude, latitude).
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub code: String,
    pub rings: Vec<Vec<(f64, f64)>>,
}

/// Reads the shapes of a GeoJSON FeatureCollection whose features carry `properties.code` and a
/// Polygon or MultiPolygon geometry. Features without a code or a readable geometry are skipped.
pub fn shapes_of_geojson(collection: &Value) -> Vec<Shape> {
    let Some(features) = collection.get("features").and_then(Value::as_array) else {
        return Vec::new();
    };
    features
        .iter()
        .filter_map(|feature| {
            let code = feature
                .pointer("/properties/code")
                .and_then(Value::as_str)?
                .to_string();
            let geometry = feature.get("geometry")?;
            let coordinates = geometry.get("coordinates")?;
            let polygons: Vec<&Value> = match geometry.get("type")?.as_str()? {
                "Polygon" => vec![coordinates],
                "MultiPolygon" => coordinates.as_array()?.iter().collect(),
                _ => return None,
            };
            let rings = polygons
                .into_iter()
                .filter_map(Value::as_array)
                .flatten()
                .filter_map(|ring| {
                    ring.as_array().map(|points| {
                        points
                            .iter()
                            .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
                            .collect::<Vec<_>>()
                    })
                })
                .filter(|ring| ring.len() >= 3)
                .collect::<Vec<_>>();
            (!rings.is_empty()).then_some(Shape { code, rings })
        })
        .collect()
}

/// Shapes projected into a `width`-wide SVG: equirectangular, with longitudes shrunk by the cosine
/// of the middle latitude so Sơn La keeps its true proportions (at 21° N a degree of longitude is
/// 0.93 of a degree of latitude). Returns the paths (code, `d`) and the drawing's height.
pub fn project(shapes: &[Shape], width: f64) -> (Vec<(String, String)>, f64) {
    let points = || shapes.iter().flat_map(|s| s.rings.iter().flatten());
    let (mut min_lon, mut max_lon, mut min_lat, mut max_lat) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for &(lon, lat) in points() {
        min_lon = min_lon.min(lon);
        max_lon = max_lon.max(lon);
        min_lat = min_lat.min(lat);
        max_lat = max_lat.max(lat);
    }
    if !min_lon.is_finite() || max_lon <= min_lon || max_lat <= min_lat {
        return (Vec::new(), 0.0);
    }
    let shrink = ((min_lat + max_lat) / 2.0).to_radians().cos();
    let scale = width / ((max_lon - min_lon) * shrink);
    let height = (max_lat - min_lat) * scale;
    let paths = shapes
        .iter()
        .map(|shape| {
            let mut d = String::new();
            for ring in &shape.rings {
                for (i, &(lon, lat)) in ring.iter().enumerate() {
                    let x = (lon - min_lon) * shrink * scale;
                    let y = (max_lat - lat) * scale;
                    d.push(if i == 0 { 'M' } else { 'L' });
                    d.push_str(&format!("{x:.1},{y:.1}"));
                }
                d.push('Z');
            }
            (shape.code.clone(), d)
        })
        .collect();
    (paths, height)
}

/// Five colour classes, light to dark (a sequential scheme that stays readable for colour-blind
/// readers and in grey print).
pub const CLASS_COLOURS: [&str; 5] = ["#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c"];
/// The colour of a unit without a figure: hatched grey in the legend, "chưa có số liệu".
pub const NO_DATA_COLOUR: &str = "#d9d9d9";

/// Class breaks for `values`: five classes of equal width between the smallest and the largest
/// value (a reader can say what each colour means without a table). Returns the four inner breaks.
pub fn equal_breaks(values: &[f64]) -> Vec<f64> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let (Some(min), Some(max)) = (
        finite.iter().copied().reduce(f64::min),
        finite.iter().copied().reduce(f64::max),
    ) else {
        return Vec::new();
    };
    let step = (max - min) / CLASS_COLOURS.len() as f64;
    (1..CLASS_COLOURS.len())
        .map(|i| min + step * i as f64)
        .collect()
}

/// The class (0..5) of `value` given the inner `breaks`; a value on a break goes to the higher class.
pub fn class_of(value: f64, breaks: &[f64]) -> usize {
    breaks.iter().take_while(|b| value >= **b).count()
}

/// A scale's upper end that reads well on an axis: 1, 2, 2.5 or 5 times a power of ten, at least
/// `max` (73 → 100, 18.4 → 20, 0.3 → 0.5).
pub fn nice_ceiling(max: f64) -> f64 {
    if !max.is_finite() || max <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|v| *v >= max - 1e-9)
        .unwrap_or(10.0 * power)
}
