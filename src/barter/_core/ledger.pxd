from libc.stdint cimport int32_t, int64_t


cdef struct Holding:
    # The open position of one market, at average cost. Money is in the market's quote asset.
    double quantity               # signed base units: + long, - short; 0 when flat
    double avg_price              # quote per base unit paid on average for |quantity|; 0 when flat
    double realised               # realised PnL of this position so far, its fees already taken off
    double fees                   # fees paid by this position's fills
    double max_quantity           # largest |quantity| this position reached
    double mark                   # last price seen (fill or mark), quote per base; NaN before any
    int64_t open_time_ns, update_time_ns
    int64_t position_id           # the ledger's serial number of this position; -1 when flat
    int64_t last_fill             # index of the position's newest fill in the ledger's fills; -1


cdef struct LedgerFill:
    # One fill (or, for a flip, one of its two parts) as applied.
    int32_t market_id
    int64_t time_ns
    double quantity               # signed base units
    double price                  # quote per base unit
    double fee                    # quote
    double realised               # PnL this fill realised against the average cost, fee taken off
    int64_t position_id
    int64_t prev_fill             # the same position's previous fill; -1 for its first


cdef struct Closed:
    # A position that went back to flat (or flipped), kept in closing order.
    int32_t market_id
    int64_t position_id
    int side                      # +1 long, -1 short
    int64_t open_time_ns, close_time_ns
    double max_quantity           # largest |quantity| it reached
    double realised, fees
    int64_t last_fill


cdef class Ledger:
    cdef readonly int n_markets, n_assets, account_asset
    cdef readonly bint allow_margin
    cdef readonly tuple asset_names, market_names   # for error messages only
    cdef int32_t* _base
    cdef int32_t* _quote
    cdef double* _total
    cdef double* _reserved
    cdef Holding* _hold
    cdef LedgerFill* _fills
    cdef Closed* _closed
    cdef int32_t* _rate_plan      # per resolved asset: (asset, market, direction) triples
    cdef double* _rate
    cdef int _n_plan
    cdef readonly int64_t n_fills, n_closed, next_position_id
    cdef int64_t _fill_cap, _closed_cap
    cdef void _plan_rates(self)
    cdef void _push_plan(self, int asset, int market, int direction)
    cdef int _asset(self, int asset) except -1
    cdef _record_raw(self, dict f)
