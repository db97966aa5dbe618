"""Routes of the conversations API (registered on the shared router)."""
urlpatterns: list = []
