"""People's handouts (issue 16): where their files are and how to reach them."""
