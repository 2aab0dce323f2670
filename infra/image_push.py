"""The built image pushed to the cluster's registry by digest, as a Pulumi resource.

The push itself is imagebuild.push's (the archive, unchanged, checked against the build's
digest). Deleting the resource leaves the image in the registry: retention is the registry's
business, and a rollback may need it.
"""

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

from imagebuild.push import is_pushed, push_image
from imagebuild.record import ImageInfo


def _push(props: dict[str, Any]) -> dict[str, Any]:
    built = ImageInfo.model_validate(props["built"])
    released = push_image(
        built,
        props["registry"],
        insecure=bool(props["insecure"]),
        credentials=props.get("credentials"),
    )
    return {**props, "reference": f"{released.repository}@{released.digest}"}


class ImagePushProvider(ResourceProvider):
    """Create/update = push (when the image changed or the registry lost it); delete = keep."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = _push(props)
        return CreateResult(id_=outs["reference"], outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # The credentials (a short-lived token) change on every run: not a reason to push.
        changed = any(olds.get(key) != news.get(key) for key in ("built", "registry"))
        if not changed:
            # A local registry may have been started afresh since the last push.
            built = ImageInfo.model_validate(news["built"])
            released = built.model_copy(
                update={
                    "repository": olds["reference"].split("@")[0],
                    "digest": built.archive_digest,
                }
            )
            changed = not is_pushed(
                released, insecure=bool(news["insecure"]), credentials=news.get("credentials")
            )
        return DiffResult(changes=changed, replaces=[], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=_push(news))


class PushedImage(pulumi.dynamic.Resource):
    """`built` in `registry`; `reference` (`registry/name@digest`) is what the release runs."""

    reference: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        built: ImageInfo,
        registry: str,
        insecure: bool,
        credentials: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=["credentials"])
        super().__init__(
            ImagePushProvider(),
            name,
            {
                "built": built.model_dump(mode="json"),
                "registry": registry,
                "insecure": insecure,
                "credentials": credentials,
                "reference": None,
            },
            pulumi.ResourceOptions.merge(opts, secret),
        )
