//! The order a build reads listings in, which is the order of their document numbers: along
//! a Hilbert curve over their first office, so that listings near one another on the map
//! have near numbers.
//!
//! Most searches are about a place (a radius, a place name, a map box), so their matches
//! lie in a few runs of numbers rather than spread over the whole index: counting facets
//! reads each match's values (`codes`) from neighbouring memory, and the matches' bitmaps
//! are a few dense containers. Listings without an office (online only) come last, by
//! state, as a place search finds them through their states. Listings added after the
//! build take free numbers, so the order loosens with churn until the next build.

use std::collections::HashSet;

use uuid::Uuid;

/// Where a listing is, for its place in the order.
pub struct Placement {
    pub listing_id: Uuid,
    /// `[lat, lng]` of its first office.
    pub office: Option<[f64; 2]>,
    /// Its first state, for a listing without an office.
    pub state: Option<String>,
}

/// Cells per side of the grid the curve runs through: 2^16, about 300 m of latitude.
const ORDER_BITS: u32 = 16;

/// The listings in map order.
pub fn in_map_order(mut placements: Vec<Placement>) -> Vec<Uuid> {
    let side = f64::from((1u32 << ORDER_BITS) - 1);
    let cell = |value: f64, low: f64, span: f64| -> u32 {
        (((value - low) / span).clamp(0.0, 1.0) * side).round() as u32
    };
    let key = |p: &Placement| match p.office {
        Some([lat, lng]) => (
            0,
            hilbert(cell(lng, -180.0, 360.0), cell(lat, -90.0, 180.0)),
            String::new(),
        ),
        None => (1, 0, p.state.clone().unwrap_or_default()),
    };
    placements.sort_by_cached_key(|p| (key(p), p.listing_id));
    // A listing whose offices share the first position appears once, at the first.
    let mut seen = HashSet::with_capacity(placements.len());
    placements
        .into_iter()
        .map(|p| p.listing_id)
        .filter(|id| seen.insert(*id))
        .collect()
}

/// The distance along the Hilbert curve of the cell `(x, y)` of a `2^ORDER_BITS` grid.
fn hilbert(mut x: u32, mut y: u32) -> u64 {
    let mut d = 0u64;
    let mut s = 1u32 << (ORDER_BITS - 1);
    while s > 0 {
        let rx = u32::from(x & s > 0);
        let ry = u32::from(y & s > 0);
        d += u64::from(s) * u64::from(s) * u64::from((3 * rx) ^ ry);
        // Turns the quadrant so that the curve runs on from where it left off.
        if ry == 0 {
            if rx == 1 {
                let last = (1u32 << ORDER_BITS) - 1;
                x = last - x;
                y = last - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The curve visits every cell once, each step to a neighbouring cell: near on the
    /// curve is near on the map.
    #[test]
    fn the_curve_visits_every_cell_once_stepping_to_a_neighbour() {
        // A 2^16 grid is too many cells to walk; its lowest 2^5 by 2^5 corner is a curve of
        // its own, as every level of a Hilbert curve is.
        let n = 1u32 << 5;
        let mut cells: Vec<(u64, u32, u32)> = (0..n)
            .flat_map(|x| (0..n).map(move |y| (hilbert(x, y), x, y)))
            .collect();
        cells.sort_unstable();
        for (i, window) in cells.windows(2).enumerate() {
            let ((d0, x0, y0), (d1, x1, y1)) = (window[0], window[1]);
            assert_eq!((d0, d1), (i as u64, i as u64 + 1));
            assert_eq!(
                x0.abs_diff(x1) + y0.abs_diff(y1),
                1,
                "{x0},{y0} → {x1},{y1}"
            );
        }
    }

    #[test]
    fn neighbours_come_together_and_listings_without_an_office_last_by_state() {
        let at = |n: u128, office: Option<[f64; 2]>, state: Option<&str>| Placement {
            listing_id: Uuid::from_u128(n),
            office,
            state: state.map(str::to_owned),
        };
        let order = in_map_order(vec![
            at(1, None, Some("TX")),
            at(2, Some([40.71, -74.00]), None),
            at(3, Some([34.05, -118.24]), None),
            at(4, Some([40.73, -73.99]), None),
            at(5, None, Some("CA")),
            at(6, Some([34.06, -118.25]), None),
            at(7, Some([40.72, -74.01]), None),
        ]);
        let place = |n: u128| {
            order
                .iter()
                .position(|id| *id == Uuid::from_u128(n))
                .unwrap()
        };
        // New York's three together, Los Angeles's two together.
        let mut ny = [place(2), place(4), place(7)];
        ny.sort_unstable();
        assert_eq!(ny[2] - ny[0], 2);
        assert_eq!(place(3).abs_diff(place(6)), 1);
        assert_eq!(&order[5..], [Uuid::from_u128(5), Uuid::from_u128(1)]);
    }
}
