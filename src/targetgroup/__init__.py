"""targetgroup: finds citizens served by several municipal departments at once.

The pipeline's stages live in their own modules (extract, stage, identify SQL, deliver, warehouse);
`targetgroup.pipeline` chains them and `targetgroup.cli` is the command line.
"""

__version__ = "0.1.0"
