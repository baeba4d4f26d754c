#pragma once
/// The replay's events: one deterministic sequence built from lake streams of
/// several symbols. The same inputs always give the same events in the same
/// order, so an event's index (0, 1, 2 ...) names a point of the replay for
/// ever: the journal records orders against it (README.md, "Durability").
///
/// Bars mode: each bar becomes three events, `Open`, `OpenFills` and `Close`, bars in time
/// order across symbols, ties in symbol order (WIN's 10:00 bar before WDO's).
/// Ticks mode: each trade becomes a `Tick`; the first trade of a symbol in a
/// new minute is preceded by an `Open` of that minute's bar (its open price is
/// the trade's), and when a trade of any symbol starts a later minute every
/// symbol's bar of an earlier minute is closed first (`Close`, bars built by
/// `core::BarAggregator`), in symbol order; the end of the data closes the
/// rest.

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/market_data.h"
#include "lake/lake.h"

namespace quant::replay {

enum class EventKind : std::uint8_t {
  Open,       ///< a bar of `symbol` starts (`bar.ts`; bars mode: the whole bar, ticks mode: only ts and open)
  OpenFills,  ///< bars mode: the venue fills at the bar's open (market orders), before the rest of the bar
  Close,      ///< the bar of `symbol` closed (`bar` complete)
  Tick,       ///< a trade replayed as a tick (ticks mode)
};

struct Event {
  EventKind kind = EventKind::Open;
  std::size_t symbol = 0;  ///< index into the replay's symbol list
  Bar bar;
  Tick tick;
  /// When the event happens: Open and OpenFills at bar.ts, Close at bar.ts + 1 min, Tick at tick.ts.
  Timestamp time() const;
};

/// A sequence of events. Not thread-safe.
class EventSource {
 public:
  virtual ~EventSource() = default;
  /// The next event; false at the end of the data; an error when a stream fails.
  virtual Expected<bool> next(Event& event) = 0;
};

/// Bars mode over one bar stream per symbol (in symbol order).
std::unique_ptr<EventSource> bar_events(std::vector<std::unique_ptr<lake::BarStream>> streams);
/// Ticks mode over one trade stream per symbol (in symbol order).
std::unique_ptr<EventSource> trade_events(std::vector<std::unique_ptr<lake::TradeStream>> streams);

/// Opens the event sequence from its start (the replay reopens it after a
/// reconnect or a restart: README.md, "Durability").
using EventSourceFactory = std::function<Expected<std::unique_ptr<EventSource>>()>;

enum class ReplayMode : std::uint8_t { Bars, Ticks };

/// The factory over a lake: `symbols`' bars (Bars) or trades (Ticks) with from <= ts < to.
EventSourceFactory lake_events(lake::Lake& lake, std::vector<std::string> symbols, ReplayMode mode, Timestamp from,
                               Timestamp to);

}  // namespace quant::replay
