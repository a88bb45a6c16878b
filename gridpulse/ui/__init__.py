"""The Streamlit layer: caching, the shared filter component, small drawing helpers."""
