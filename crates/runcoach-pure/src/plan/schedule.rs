//! Which weekdays to run on, and which of them carry the long run and the
//! hard sessions.

use chrono::Weekday;

/// The weekly pattern: running days, the long-run day and the hard-session
/// days (primary first). Hard days are never cyclically adjacent, so the
/// pattern repeated week after week never puts two hard sessions back to back
/// (Sunday and the next Monday count as adjacent).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DayPattern {
    pub days: Vec<Weekday>,
    pub long: Weekday,
    pub hard: Vec<Weekday>,
}

fn idx(d: Weekday) -> u32 {
    d.num_days_from_monday()
}

fn from_idx(i: u32) -> Weekday {
    (0..i % 7).fold(Weekday::Mon, |d, _| d.succ())
}

fn cyclic_gap(a: u32, b: u32) -> u32 {
    let d = a.abs_diff(b);
    d.min(7 - d)
}

fn days_of(mask: u32) -> Vec<u32> {
    (0..7).filter(|i| mask & (1 << i) != 0).collect()
}

fn adjacent_pairs(days: &[u32]) -> usize {
    let mut n = 0;
    for (k, a) in days.iter().enumerate() {
        n += days.iter().skip(k + 1).filter(|b| cyclic_gap(*a, **b) == 1).count();
    }
    n
}

/// Picks `sessions` days: as many preferred days as possible, then spread out
/// (fewest back-to-back days), then with a weekend day for the long run.
pub(crate) fn choose_days(sessions: u8, preferred: &[Weekday]) -> Vec<Weekday> {
    let pref_mask = preferred.iter().fold(0u32, |m, d| m | (1 << idx(*d)));
    let best = (0u32..128)
        .filter(|m| m.count_ones() == u32::from(sessions))
        .max_by_key(|m| {
            let days = days_of(*m);
            let overlap = (m & pref_mask).count_ones();
            let min_gap = days
                .iter()
                .enumerate()
                .flat_map(|(k, a)| days.iter().skip(k + 1).map(move |b| cyclic_gap(*a, *b)))
                .min()
                .unwrap_or(7);
            let weekend = u32::from(m & (1 << 6) != 0) * 2 + u32::from(m & (1 << 5) != 0);
            // Ties broken towards the lowest mask so the choice is deterministic.
            (overlap, std::cmp::Reverse(adjacent_pairs(&days)), min_gap, weekend, std::cmp::Reverse(*m))
        })
        .unwrap_or(0b100_0101);
    days_of(best).into_iter().map(from_idx).collect()
}

/// Assigns the long run (Sunday, else Saturday, else the last day of the
/// week) and up to `max_hard` hard days, never adjacent to each other,
/// preferably not next to the long run, primary first.
pub(crate) fn assign_roles(days: &[Weekday], max_hard: usize) -> DayPattern {
    let ids: Vec<u32> = days.iter().map(|d| idx(*d)).collect();
    let long = if ids.contains(&6) {
        6
    } else if ids.contains(&5) {
        5
    } else {
        ids.iter().copied().max().unwrap_or(6)
    };
    let others: Vec<u32> = ids.iter().copied().filter(|d| *d != long).collect();
    let mut hard: Vec<u32> = Vec::new();
    for h in (1..=max_hard.min(others.len())).rev() {
        let mut best: Option<(Vec<u32>, (usize, u32))> = None;
        for mask in 0u32..(1 << others.len()) {
            if mask.count_ones() as usize != h {
                continue;
            }
            let pick: Vec<u32> =
                others.iter().enumerate().filter(|(k, _)| mask & (1 << k) != 0).map(|(_, d)| *d).collect();
            if adjacent_pairs(&pick) > 0 {
                continue;
            }
            let next_to_long = pick.iter().filter(|d| cyclic_gap(**d, long) == 1).count();
            let spread: u32 = pick.iter().map(|d| cyclic_gap(*d, long)).sum();
            let score = (usize::MAX - next_to_long, spread);
            if best.as_ref().is_none_or(|(_, s)| score > *s) {
                best = Some((pick, score));
            }
        }
        if let Some((pick, _)) = best {
            hard = pick;
            break;
        }
    }
    // Primary = first hard day after the long run: the freshest legs.
    hard.sort_by_key(|d| (d + 7 - long) % 7);
    DayPattern { days: days.to_vec(), long: from_idx(long), hard: hard.into_iter().map(from_idx).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Weekday::*;

    #[test]
    fn default_days_are_spread() {
        assert_eq!(choose_days(3, &[]), vec![Tue, Thu, Sun]);
        let four = choose_days(4, &[]);
        assert_eq!(four.len(), 4);
        assert!(four.contains(&Sun));
        let six = choose_days(6, &[]);
        assert_eq!(six.len(), 6);
        let two = choose_days(2, &[]);
        assert_eq!(two.len(), 2);
        assert!(two.contains(&Sun));
    }

    #[test]
    fn preferred_days_respected() {
        assert_eq!(choose_days(3, &[Mon, Wed, Fri]), vec![Mon, Wed, Fri]);
        // More preferred days than sessions: a spread subset of them.
        let d = choose_days(2, &[Mon, Tue, Wed, Sat]);
        assert!(d.iter().all(|x| [Mon, Tue, Wed, Sat].contains(x)));
        assert_eq!(d.len(), 2);
        // Fewer: all of them plus spread extras.
        let d = choose_days(4, &[Sat]);
        assert!(d.contains(&Sat) && d.len() == 4);
    }

    #[test]
    fn roles_never_adjacent() {
        let p = assign_roles(&[Tue, Thu, Sat, Sun], 2);
        assert_eq!(p.long, Sun);
        assert_eq!(p.hard, vec![Tue, Thu]);
        let p = assign_roles(&[Mon, Tue, Wed], 2);
        assert_eq!(p.long, Wed);
        assert_eq!(p.hard.len(), 1);
        let p = assign_roles(&[Sat, Sun], 1);
        assert_eq!((p.long, p.hard.clone()), (Sun, vec![Sat]));
        for n in 2..=6u8 {
            let p = assign_roles(&choose_days(n, &[]), 2);
            for (k, a) in p.hard.iter().enumerate() {
                for b in p.hard.iter().skip(k + 1) {
                    assert!(cyclic_gap(idx(*a), idx(*b)) > 1, "{n}: {:?}", p);
                }
            }
        }
    }
}
