"""Leaderboards: overall, by 시도 and 시군구, weekly, monthly, all time, and near me."""
