"""The portfolio (the seed's MetaPortfolio): allocation, risk, positions, balances, statistics;
and past the seed, ``Account``: orders, partial fills, flips and balances per asset, stored in a
repository (in memory or Redis)."""
from barter.portfolio.account import Account, AccountFill, AssetBalance, LedgerPosition
from barter.portfolio.allocator import DefaultAllocator, FixedFractionAllocator
from barter.portfolio.portfolio import Portfolio
from barter.portfolio.position import Balance, Position
from barter.portfolio.repository import InMemoryRepository, RedisRepository, Repository
from barter.portfolio.risk import DefaultRisk, RiskManager

__all__ = ["Account", "AccountFill", "AssetBalance", "Balance", "DefaultAllocator", "DefaultRisk",
           "FixedFractionAllocator", "InMemoryRepository", "LedgerPosition", "Portfolio", "Position",
           "RedisRepository", "Repository", "RiskManager"]
