"""Community: boards, posts, comments, likes, follows and search."""
